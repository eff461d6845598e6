import type { HandlerContext } from "@connectrpc/connect";
import type { CallContext } from "../kernel/call-context.js";

/**
 * The abort reason of a call that ended (answered, or its caller went away).
 * One shared instance: `controller.abort()` without a reason builds a new
 * DOMException with a captured stack each time, ~3% of the server's CPU per
 * CreateOrder when every call's signal was aborted that way.
 */
export const CALL_ENDED: Error = new DOMException("the call has ended", "AbortError");

/**
 * The CallContext of an incoming call: the caller's deadline, or
 * `defaultDeadlineMs` from now when the caller gave none. The signal is taken
 * from the handler context only when a use case asks for it: the transports
 * build it lazily, and most reads never look.
 */
export function callContextOf(ctx: HandlerContext, defaultDeadlineMs: number): CallContext {
  const timeout = ctx.timeoutMs();
  return {
    deadline: Date.now() + (timeout === undefined ? defaultDeadlineMs : timeout),
    get signal() {
      return ctx.signal;
    },
    actor: ctx.requestHeader.get("x-actor") ?? undefined,
  };
}
