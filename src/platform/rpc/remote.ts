/**
 * Helpers for calling another of our services through a generated client:
 * the call gets the caller's remaining deadline minus a margin, and a failed
 * call comes back as a DomainError with the callee's reason, so callers
 * handle remote and local failures alike.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallOptions } from "@connectrpc/connect";
import { ErrorInfoSchema, PreconditionFailureSchema, BadRequestSchema } from "../../../gen/google/rpc/error_details_pb.js";
import type { CallContext } from "../../kernel/call-context.js";
import { DomainError, type ErrorKind } from "../../kernel/errors.js";
import { ERROR_DOMAIN } from "./rpc-errors.js";

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
    // On whose behalf: honoured by the callee because we call it as a service.
    headers: { "x-actor": cx.actor },
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
 *
 * Only an answer of our callee keeps its code: every error our services send
 * carries our ErrorInfo (rpc-errors.ts). A code the client library made up
 * from a broken connection is a transport failure, UNAVAILABLE: connect-node
 * turns ECONNRESET and a destroyed stream into ABORTED, which our API
 * reserves for conflicts the caller can resolve by re-reading.
 */
export function fromRemoteError(err: unknown, dependency: string): unknown {
  if (!(err instanceof ConnectError)) return err;
  const dep = dependency.toUpperCase();
  const kind = KIND_OF[err.code];
  if (kind === "DEADLINE_EXCEEDED") {
    return new DomainError("DEADLINE_EXCEEDED", `${dep}_DEADLINE_EXCEEDED`, `${dependency} did not answer in time`);
  }
  const info = err.findDetails(ErrorInfoSchema).find((i) => i.domain === ERROR_DOMAIN);
  if (kind === "UNAVAILABLE" || kind === "CANCELLED" || kind === undefined || isTransportFailure(err, info !== undefined)) {
    return new DomainError("UNAVAILABLE", `${dep}_UNAVAILABLE`, `${dependency} is unavailable`);
  }
  const pre = err.findDetails(PreconditionFailureSchema)[0];
  const bad = err.findDetails(BadRequestSchema)[0];
  return new DomainError(kind, info?.reason || `${dep}_${kind}`, err.rawMessage, {
    metadata: info?.metadata,
    preconditionViolations: pre?.violations.map(({ type, subject, description }) => ({ type, subject, description })),
    fieldViolations: bad?.fieldViolations.map(({ field, description }) => ({ field, description })),
  });
}

/**
 * A failure of the connection rather than an answer: caused by a Node.js
 * system error (ECONNRESET, EPIPE, ERR_HTTP2_STREAM_ERROR...), or an ABORTED
 * without our ErrorInfo (our callee always sends one with a real ABORTED).
 */
function isTransportFailure(err: ConnectError, fromOurCallee: boolean): boolean {
  if (err.code === Code.Aborted && !fromOurCallee) return true;
  for (let cause = err.cause, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]|^ERR_/.test(code)) return true;
  }
  return false;
}
