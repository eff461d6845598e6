/**
 * What a use case knows of the call that runs it, without any transport
 * types: when it must be done by, how to notice it was abandoned, and who
 * asked. rpc/ builds it from the handler context; tests build it by hand.
 */
export interface CallContext {
  /** Epoch milliseconds by which the caller needs the answer. */
  readonly deadline: number;
  /** Aborts when the caller goes away or the deadline passes. */
  readonly signal: AbortSignal;
  /** Who is acting (the `x-actor` request header), when known. */
  readonly actor: string | undefined;
}

/** A context for background work and tests: a fixed budget, nobody waiting. */
export function backgroundContext(budgetMs = 30_000, actor?: string): CallContext {
  return { deadline: Date.now() + budgetMs, signal: AbortSignal.timeout(budgetMs), actor };
}
