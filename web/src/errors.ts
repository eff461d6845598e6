/**
 * What a failed call says, read the way README "Errors" describes it: the
 * code, the message, and the details the service attaches — its
 * google.rpc.ErrorInfo (a stable reason, domain order-service, metadata),
 * BadRequest (which fields), PreconditionFailure (which state) and RetryInfo
 * (when to try again) — decoded with connect-web's findDetails and the
 * generated google.rpc types.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  RetryInfoSchema,
} from "../../gen/google/rpc/error_details_pb.js";

export interface ErrorDescription {
  /** FAILED_PRECONDITION, UNAUTHENTICATED, … as gRPC names the code. */
  readonly code: string;
  readonly message: string;
  /** ErrorInfo.reason: ILLEGAL_TRANSITION, TOKEN_EXPIRED, … */
  readonly reason?: string;
  readonly domain?: string;
  readonly metadata: readonly (readonly [string, string])[];
  /** "field: what is wrong" (BadRequest) and "TYPE subject: what is wrong" (PreconditionFailure). */
  readonly violations: readonly string[];
  /** RetryInfo's delay, in milliseconds. */
  readonly retryAfterMs?: number;
}

/** Code.FailedPrecondition → "FAILED_PRECONDITION", as gRPC and the README spell codes. */
function codeName(code: Code): string {
  if (code === Code.Canceled) return "CANCELLED";
  return (Code[code] ?? "UNKNOWN").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

export function describeError(err: unknown): ErrorDescription {
  const e = ConnectError.from(err);
  const info = e.findDetails(ErrorInfoSchema)[0];
  const violations = [
    ...e.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => `${v.field}: ${v.description}`)),
    ...e.findDetails(PreconditionFailureSchema).flatMap((d) => d.violations.map((v) => `${v.type} ${v.subject}: ${v.description}`)),
  ];
  const delay = e.findDetails(RetryInfoSchema)[0]?.retryDelay;
  return {
    code: codeName(e.code),
    message: e.rawMessage,
    reason: info?.reason,
    domain: info?.domain,
    metadata: Object.entries(info?.metadata ?? {}),
    violations,
    retryAfterMs: delay && Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6),
  };
}
