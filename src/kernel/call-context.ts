/**
 * What a use case knows of the call that runs it, without any transport
 * types: when it must be done by, how to notice it was abandoned, and who
 * asked. wrapService (src/platform/rpc/handlers.ts) builds it once per call, for
 * every transport; background work and tests build it by hand.
 */
import { ANONYMOUS, principalLabel, type Principal } from "./principal.js";

export interface CallContext {
  /** Epoch milliseconds by which the caller needs the answer. */
  readonly deadline: number;
  /** Aborts when the caller goes away or the deadline passes. */
  readonly signal: AbortSignal;
  /** Who makes the call: verified from its credentials, or anonymous. */
  readonly principal: Principal;
  /**
   * Who is acting, for history and logs: the principal's label
   * (`customer:<id>`, `staff:<sub>`, `service:<name>`), and for a service
   * principal the end user it acts for, when it said so.
   */
  readonly actor: string;
}

/** The actor of `principal`, acting for `onBehalfOf` (only services may). */
export function actorOf(principal: Principal, onBehalfOf?: string): string {
  const label = principalLabel(principal);
  return onBehalfOf ? `${label} for ${onBehalfOf}` : label;
}

/**
 * A context for background work (and tests): a fixed budget, nobody waiting,
 * no caller's principal; `actor` says on whose behalf it runs ("system" by
 * default, the original caller's actor for work that finishes a call).
 */
export function backgroundContext(budgetMs = 30_000, actor = "system", principal: Principal = ANONYMOUS): CallContext {
  return { deadline: Date.now() + budgetMs, signal: AbortSignal.timeout(budgetMs), principal, actor };
}
