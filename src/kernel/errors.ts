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
  | "CANCELLED";

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

export const unavailable = (reason: string, message: string, metadata?: Record<string, string>) =>
  new DomainError("UNAVAILABLE", reason, message, { metadata });

export const deadlineExceeded = (reason: string, message: string) =>
  new DomainError("DEADLINE_EXCEEDED", reason, message);

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
