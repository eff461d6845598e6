/**
 * Standard gRPC health checking (grpc.health.v1.Health), implemented once as
 * a service implementation and served over both transports like any other.
 * Each hosted service has a status; "" is the whole server. A monitor marks
 * the database-backed services NOT_SERVING while the database is unreachable.
 */
import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
  type HealthCheckResponse,
} from "../../gen/grpc/health/v1/health_pb.js";
import { notFound } from "../kernel/errors.js";
import type { RpcImpl } from "./rpc/handlers.js";
import { freezeMessage } from "./rpc/message-encoding.js";
import { createPeriodic } from "./periodic.js";

export { Status as ServingStatus };

export interface HealthRegistry {
  readonly impl: RpcImpl<typeof Health>;
  /** Sets every registered service (and "") to `status`. */
  setAll(status: Status): void;
  status(service: string): Status | undefined;
  /** Ends open Watch streams (at shutdown). */
  close(): void;
}

/** One frozen response per status, so the servers encode each only once. */
const responses = new Map<Status, HealthCheckResponse>();
function responseOf(status: Status): HealthCheckResponse {
  let res = responses.get(status);
  if (res === undefined) responses.set(status, (res = freezeMessage(create(HealthCheckResponseSchema, { status }))));
  return res;
}

export function createHealthRegistry(serviceNames: readonly string[]): HealthRegistry {
  const statuses = new Map<string, Status>([["", Status.NOT_SERVING]]);
  for (const n of serviceNames) statuses.set(n, Status.NOT_SERVING);
  const watchers = new Set<() => void>();
  let closed = false;
  const notify = () => watchers.forEach((w) => w());

  async function* watch(service: string, signal: AbortSignal) {
    let last: Status | undefined;
    while (!signal.aborted && !closed) {
      const current = statuses.get(service) ?? Status.SERVICE_UNKNOWN;
      if (current !== last) {
        last = current;
        yield { status: current };
        continue; // re-check: it may have changed while the consumer was busy
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          watchers.delete(done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        watchers.add(done);
        signal.addEventListener("abort", done);
      });
    }
  }

  const impl: RpcImpl<typeof Health> = {
    check(req) {
      const status = statuses.get(req.service);
      if (status === undefined) throw notFound("SERVICE_UNKNOWN", `unknown service "${req.service}"`);
      return responseOf(status);
    },
    watch: (req, cx) => watch(req.service, cx.signal),
  };

  return {
    impl,
    setAll(status) {
      let changed = false;
      for (const key of statuses.keys()) {
        if (statuses.get(key) !== status) {
          statuses.set(key, status);
          changed = true;
        }
      }
      if (changed) notify();
    },
    status: (s) => statuses.get(s),
    close() {
      closed = true;
      notify();
    },
  };
}

/**
 * Polls `ping` every `intervalMs` (a periodic.ts plain function: each check
 * bounds itself to the interval) and flips every status between SERVING and
 * NOT_SERVING.
 */
export function startHealthMonitor(
  health: HealthRegistry,
  ping: () => Promise<void>,
  intervalMs: number,
  logger: Logger,
): { stop(): void; checkNow(): Promise<void> } {
  let healthy: boolean | undefined;
  const checkNow = async () => {
    let ok = true;
    try {
      await Promise.race([
        ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error("ping timed out")), intervalMs).unref()),
      ]);
    } catch (err) {
      ok = false;
      if (healthy !== false) logger.error({ err }, "database unreachable: NOT_SERVING");
    }
    if (ok && healthy === false) logger.info("database reachable again: SERVING");
    healthy = ok;
    health.setAll(ok ? Status.SERVING : Status.NOT_SERVING);
  };
  const poll = createPeriodic(() => void checkNow(), { what: "database health check", intervalMs, logger });
  poll.start();
  return { stop: () => void poll.stop(), checkNow };
}
