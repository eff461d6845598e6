/**
 * The one place where errors become wire statuses. Domain errors keep their
 * stable reason in a google.rpc.ErrorInfo and their specifics in BadRequest /
 * PreconditionFailure details (AIP-193). Database failures (unreachable,
 * conflict, statement timeout) become UNAVAILABLE / ABORTED / DEADLINE_EXCEEDED.
 * Anything unknown becomes INTERNAL with a generic message; its cause goes to
 * the log, never to the client.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  RetryInfoSchema,
} from "../../../gen/google/rpc/error_details_pb.js";
import { DomainError, untraced, type ErrorKind } from "../../kernel/errors.js";
import { databaseFailureOf } from "../pg-errors.js";

/** ErrorInfo.domain of every error this service raises. */
export const ERROR_DOMAIN = "order-service";

const CODE_OF: Record<ErrorKind, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  ABORTED: Code.Aborted,
  UNAVAILABLE: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  CANCELLED: Code.Canceled,
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
};

/**
 * Each domain error's ConnectError, built once: an error thrown again (the
 * rate limiter's shared refusals) is answered with the same object, whose
 * encoded answer connect-unary.ts keeps too. ConnectErrors are read, never
 * changed, by every transport. Weak: a one-off error's entry goes with it.
 */
const connectErrors = new WeakMap<DomainError, ConnectError>();

export function domainToConnectError(e: DomainError): ConnectError {
  let ce = connectErrors.get(e);
  if (ce === undefined) {
    ce = buildConnectError(e);
    connectErrors.set(e, ce);
  }
  return ce;
}

function buildConnectError(e: DomainError): ConnectError {
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    {
      desc: ErrorInfoSchema,
      value: { reason: e.reason, domain: ERROR_DOMAIN, metadata: { ...e.options.metadata } },
    },
  ];
  const fv = e.options.fieldViolations ?? [];
  if (fv.length > 0) {
    details.push({ desc: BadRequestSchema, value: { fieldViolations: fv.map((v) => ({ ...v })) } });
  }
  const pv = e.options.preconditionViolations ?? [];
  if (pv.length > 0) {
    details.push({ desc: PreconditionFailureSchema, value: { violations: pv.map((v) => ({ ...v })) } });
  }
  const retryAfterMs = e.options.retryAfterMs;
  // An answer, not a failure of ours: its ConnectError needs no stack trace (it never leaves the process).
  if (retryAfterMs === undefined) return untraced(() => new ConnectError(e.message, CODE_OF[e.kind], undefined, details));
  const ms = Math.max(0, Math.ceil(retryAfterMs));
  details.push({
    desc: RetryInfoSchema,
    value: { retryDelay: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 } },
  });
  return untraced(() => new ConnectError(e.message, CODE_OF[e.kind], retryHeaders(ms), details));
}

/**
 * The retry hint as headers: `retry-after` (RFC 9110, whole seconds) for HTTP
 * clients of the Connect port, `grpc-retry-pushback-ms` for gRPC clients (the
 * gRPC retry design's pushback; grpc-server.ts sends it as a trailer).
 */
export function retryHeaders(ms: number): Headers {
  return new Headers({ "retry-after": String(Math.ceil(ms / 1000)), "grpc-retry-pushback-ms": String(ms) });
}

/**
 * Maps anything thrown by a handler. ConnectErrors raised by the platform
 * itself (validation, deadlines, cancellation) pass through unchanged.
 */
export function toConnectError(err: unknown, log: Logger, method: string): ConnectError {
  if (err instanceof DomainError) return domainToConnectError(err);
  if (err instanceof ConnectError && err.code !== Code.Internal && err.code !== Code.Unknown) {
    return err;
  }
  if (isAbort(err)) return new ConnectError("the call was cancelled", Code.Canceled);
  const dbFailure = databaseFailureOf(err);
  if (dbFailure) {
    log.warn({ err, method, reason: dbFailure.reason }, "database failure");
    return domainToConnectError(dbFailure);
  }
  log.error({ err, method }, "internal error");
  return new ConnectError("internal error", Code.Internal, undefined, [
    { desc: ErrorInfoSchema, value: { reason: "INTERNAL", domain: ERROR_DOMAIN, metadata: {} } },
  ]);
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}
