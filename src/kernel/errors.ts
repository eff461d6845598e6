/**
 * Domain errors with stable reasons. Pure: no transport, no ORM. The platform
 * maps these once (src/platform/errors.ts) to gRPC/Connect codes with
 * google.rpc.ErrorInfo / BadRequest / PreconditionFailure details.
 */
export type ErrorKind =
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "FAILED_PRECONDITION"
  | "ABORTED"
  | "UNAVAILABLE"
  | "DEADLINE_EXCEEDED"
  | "RESOURCE_EXHAUSTED"
  | "CANCELLED"
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED";

/** One bad field of a request (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
}

/** One unmet precondition (google.rpc.PreconditionFailure.Violation). */
export interface PreconditionViolation {
  /** A stable, UPPER_SNAKE category, e.g. "INSUFFICIENT_STOCK". */
  readonly type: string;
  /** What it is about, e.g. "products/<id>". */
  readonly subject: string;
  readonly description: string;
}

export interface DomainErrorOptions {
  readonly metadata?: Readonly<Record<string, string>>;
  readonly fieldViolations?: readonly FieldViolation[];
  readonly preconditionViolations?: readonly PreconditionViolation[];
  /**
   * When the caller may try again (google.rpc.RetryInfo): sent as RetryInfo,
   * as `retry-after` (whole seconds, rounded up) and, over gRPC, as
   * `grpc-retry-pushback-ms`. Used by shedding, rate limits and streams that
   * end so the client reconnects.
   */
  readonly retryAfterMs?: number;
}

export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly kind: ErrorKind,
    /** Stable UPPER_SNAKE reason, e.g. ORDER_NOT_FOUND. Part of the API. */
    readonly reason: string,
    message: string,
    readonly options: DomainErrorOptions = {},
  ) {
    super(message);
  }
}

export const invalidArgument = (
  reason: string,
  message: string,
  fieldViolations: readonly FieldViolation[] = [],
  metadata?: Record<string, string>,
) => new DomainError("INVALID_ARGUMENT", reason, message, { fieldViolations, metadata });

export const notFound = (reason: string, message: string, metadata?: Record<string, string>) =>
  new DomainError("NOT_FOUND", reason, message, { metadata });

export const alreadyExists = (reason: string, message: string, metadata?: Record<string, string>) =>
  new DomainError("ALREADY_EXISTS", reason, message, { metadata });

export const failedPrecondition = (
  reason: string,
  message: string,
  preconditionViolations: readonly PreconditionViolation[] = [],
  metadata?: Record<string, string>,
) => new DomainError("FAILED_PRECONDITION", reason, message, { preconditionViolations, metadata });

export const aborted = (reason: string, message: string, metadata?: Record<string, string>) =>
  new DomainError("ABORTED", reason, message, { metadata });

export const unavailable = (
  reason: string,
  message: string,
  metadata?: Record<string, string>,
  retryAfterMs?: number,
) => new DomainError("UNAVAILABLE", reason, message, { metadata, retryAfterMs });

/** A limit was reached (rate, streams, size); `retryAfterMs` says when trying again may succeed. */
export const resourceExhausted = (
  reason: string,
  message: string,
  retryAfterMs?: number,
  metadata?: Record<string, string>,
) => new DomainError("RESOURCE_EXHAUSTED", reason, message, { metadata, retryAfterMs });

export const deadlineExceeded = (reason: string, message: string) =>
  new DomainError("DEADLINE_EXCEEDED", reason, message);

/** The call's credentials are missing where required, or not valid (expired, forged, unknown key). */
export const unauthenticated = (reason: string, message: string) => new DomainError("UNAUTHENTICATED", reason, message);

/** The caller is known but may not do this. */
export const permissionDenied = (reason: string, message: string, metadata?: Record<string, string>) =>
  new DomainError("PERMISSION_DENIED", reason, message, { metadata });

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/**
 * Builds an error without capturing a stack trace: for errors that are
 * answers (a refusal, a domain error turned into its wire status), whose
 * trace would say nothing and whose capture is most of their cost — a
 * client that is refused thousands of times a second pays it each time.
 */
export function untraced<T>(make: () => T): T {
  const traces = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = traces;
  }
}
