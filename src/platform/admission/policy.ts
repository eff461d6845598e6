/**
 * Priority admission as wrapService applies it (handlers.ts): which calls
 * pass the gate (gate.ts) and in which class they wait.
 *
 * - Not gated: services this process lists as free of database work
 *   (health), and nested work — a co-hosted module calling in process as
 *   itself (CreateOrder's calls to inventory and customers, the reconciler).
 *   The outer call already holds a slot; gating its inner calls too would
 *   let N CreateOrders holding every slot wait forever for their own
 *   reservations.
 * - BULK: a List with a page above `bulkPageSize`, any List by a customer,
 *   and anonymous callers (public catalog reads nobody is accountable for).
 * - PRIORITY: service principals (with a token), staff, admins.
 * - VIP / STANDARD: customers, by the tier cache (tier-cache.ts).
 *
 * The class is only worked out when the call must wait: below the limit a
 * call costs a comparison and an increment.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import type { CallContext } from "../../kernel/call-context.js";
import { effectivePageSize } from "../../kernel/paging.js";
import { isAssertedCall } from "../auth/authenticator.js";
import { createGate, type ClassIndex, type Gate } from "./gate.js";
import type { Tier, TierCache } from "./tier-cache.js";

/** `enter`'s answer for a call the gate lets through uncounted; `leave` ignores it. */
export const NOT_GATED = -1;

export interface MethodGate {
  /** The slot's start time — at once, or once the call's turn comes — or NOT_GATED. Rejects with OVERLOADED & co. */
  enter(req: unknown, cx: CallContext, ctx: HandlerContext): number | Promise<number>;
  leave(started: number): void;
}

export interface AdmissionControl {
  /** The gate of `method`'s calls; undefined when they are never gated. */
  forMethod(method: DescMethod): MethodGate | undefined;
  readonly gate: Gate;
}

export interface AdmissionOptions {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly bulkPageSize: number;
  readonly tiers: TierCache;
  /** Service type names whose methods do no database work. */
  readonly ungatedServices: readonly string[];
}

const classOfTier = (t: Tier): ClassIndex => (t === "VIP" ? 1 : 2);

function isListMethod(method: DescMethod): boolean {
  return method.methodKind === "unary" && method.name.startsWith("List") && method.input.fields.some((f) => f.name === "page_size");
}

export function createAdmissionControl(o: AdmissionOptions): AdmissionControl {
  const gate = createGate({ maxConcurrent: o.maxConcurrent, maxQueue: o.maxQueue });
  const leave = (started: number) => {
    if (started !== NOT_GATED) gate.leave(started);
  };

  const gateFor = (list: boolean): MethodGate => {
    const classOf = (req: unknown, cx: CallContext): ClassIndex | Promise<ClassIndex> => {
      const p = cx.principal;
      if (list && (p.role === "customer" || effectivePageSize((req as { pageSize: number }).pageSize) > o.bulkPageSize)) return 3;
      if (p.role === "anonymous") return 3;
      if (p.role !== "customer") return 0;
      const tier = o.tiers.tierOf(p.id);
      return typeof tier === "string" ? classOfTier(tier) : tier.then(classOfTier);
    };
    const wait = async (req: unknown, cx: CallContext) => gate.enter(await classOf(req, cx), cx.deadline, cx.signal);
    return {
      enter(req, cx, ctx) {
        if (cx.principal.role === "service" && isAssertedCall(ctx)) return NOT_GATED;
        const started = gate.tryEnter();
        return started >= 0 ? started : wait(req, cx);
      },
      leave,
    };
  };
  const plain = gateFor(false);
  const list = gateFor(true);
  const ungated = new Set(o.ungatedServices);

  return {
    gate,
    forMethod(method) {
      if (ungated.has(method.parent.typeName)) return undefined;
      return isListMethod(method) ? list : plain;
    },
  };
}
