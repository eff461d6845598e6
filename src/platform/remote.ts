/**
 * Helpers for calling another of our services through a generated client:
 * the call gets the caller's remaining deadline minus a margin, and a failed
 * call comes back as a DomainError with the callee's reason, so callers
 * handle remote and local failures alike.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallOptions } from "@connectrpc/connect";
import { ErrorInfoSchema, PreconditionFailureSchema, BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { CallContext } from "../kernel/call-context.js";
import { DomainError, type ErrorKind } from "../kernel/errors.js";

export interface DeadlinePolicy {
  /** Kept back from the caller's deadline for our own work after the call. */
  readonly marginMs: number;
}

/** Call options for a dependency call made on behalf of `cx`. */
export function callOptions(cx: CallContext, policy: DeadlinePolicy): CallOptions {
  const remaining = cx.deadline - Date.now() - policy.marginMs;
  return {
    timeoutMs: Math.max(1, remaining),
    signal: cx.signal,
    headers: cx.actor ? { "x-actor": cx.actor } : undefined,
  };
}

const KIND_OF: Partial<Record<Code, ErrorKind>> = {
  [Code.InvalidArgument]: "INVALID_ARGUMENT",
  [Code.NotFound]: "NOT_FOUND",
  [Code.AlreadyExists]: "ALREADY_EXISTS",
  [Code.FailedPrecondition]: "FAILED_PRECONDITION",
  [Code.Aborted]: "ABORTED",
  [Code.Unavailable]: "UNAVAILABLE",
  [Code.DeadlineExceeded]: "DEADLINE_EXCEEDED",
  [Code.ResourceExhausted]: "RESOURCE_EXHAUSTED",
  [Code.Canceled]: "CANCELLED",
};

/**
 * Turns what a dependency call threw into a DomainError carrying the callee's
 * reason and details. `dependency` names the callee ("inventory") for the
 * reasons we invent (e.g. INVENTORY_UNAVAILABLE). Errors that are not
 * ConnectErrors are rethrown as they are.
 */
export function fromRemoteError(err: unknown, dependency: string): unknown {
  if (!(err instanceof ConnectError)) return err;
  const dep = dependency.toUpperCase();
  const kind = KIND_OF[err.code];
  if (kind === "UNAVAILABLE" || kind === "CANCELLED" || kind === undefined) {
    return new DomainError("UNAVAILABLE", `${dep}_UNAVAILABLE`, `${dependency} is unavailable`);
  }
  if (kind === "DEADLINE_EXCEEDED") {
    return new DomainError("DEADLINE_EXCEEDED", `${dep}_DEADLINE_EXCEEDED`, `${dependency} did not answer in time`);
  }
  const info = err.findDetails(ErrorInfoSchema)[0];
  const pre = err.findDetails(PreconditionFailureSchema)[0];
  const bad = err.findDetails(BadRequestSchema)[0];
  return new DomainError(kind, info?.reason || `${dep}_${kind}`, err.rawMessage, {
    metadata: info?.metadata,
    preconditionViolations: pre?.violations.map(({ type, subject, description }) => ({ type, subject, description })),
    fieldViolations: bad?.fieldViolations.map(({ field, description }) => ({ field, description })),
  });
}
