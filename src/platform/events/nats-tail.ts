/**
 * Reading a JetStream events stream (the CLI's `npm run events -- tail`, and
 * tests): an ordered consumer — ephemeral, no acks, in stream order, and
 * recreated by the client from the last sequence it saw when it falls
 * behind or its server goes away — on `<stream>.>` or on one type's subject.
 */
import { DeliverPolicy, jetstream, type OrderedConsumerOptions } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { attributesOf, natsNames, subjectOf } from "./nats-publisher.js";

export interface TailOptions {
  /** The stream's first event, only events published from now on, or from this stream sequence on. */
  readonly from: "start" | "now" | number;
  /** Only events of this CloudEvents type ("orders.v1.OrderCreated"). */
  readonly type?: string;
  /** EVENTS_NATS_PREFIX of the publisher. */
  readonly streamPrefix?: string;
}

export type TailHandler = (attrs: Record<string, string>, data: string, seq: number) => void;

/** Calls `onEvent` for each event of aggregate stream `stream` ("orders") until `signal` aborts. */
export async function tailNats(servers: string | readonly string[], stream: string, opts: TailOptions, onEvent: TailHandler, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const nc = await connect({ servers: typeof servers === "string" ? servers.split(",") : [...servers], name: "order-service events tail", maxReconnectAttempts: -1 });
  try {
    const names = natsNames(stream, opts.streamPrefix);
    const from: Partial<OrderedConsumerOptions> =
      opts.from === "start"
        ? { deliver_policy: DeliverPolicy.All }
        : opts.from === "now"
          ? { deliver_policy: DeliverPolicy.New }
          : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: opts.from };
    const consumer = await jetstream(nc).consumers.get(names.stream, {
      filter_subjects: opts.type ? subjectOf(stream, opts.type, opts.streamPrefix) : `${names.root}.>`,
      ...from,
    });
    const messages = await consumer.consume();
    const stop = () => messages.stop();
    signal.addEventListener("abort", stop, { once: true });
    try {
      if (signal.aborted) return;
      for await (const m of messages) {
        onEvent(attributesOf(m.headers), m.string(), m.seq);
        if (signal.aborted) break;
      }
    } finally {
      signal.removeEventListener("abort", stop);
    }
  } finally {
    await nc.close();
  }
}
