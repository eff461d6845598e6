import type { HandlerContext } from "@connectrpc/connect";
import type { CallContext } from "../kernel/call-context.js";

/**
 * The CallContext of an incoming call: the caller's deadline, or
 * `defaultDeadlineMs` from now when the caller gave none.
 */
export function callContextOf(ctx: HandlerContext, defaultDeadlineMs: number): CallContext {
  const timeout = ctx.timeoutMs();
  return {
    deadline: Date.now() + (timeout === undefined ? defaultDeadlineMs : timeout),
    signal: ctx.signal,
    actor: ctx.requestHeader.get("x-actor") ?? undefined,
  };
}
