/**
 * Capturing expected failures in tests and reading their google.rpc details.
 *
 * - RPC side: `rpcFailure` awaits a call expected to fail and returns its
 *   ConnectError; `errorInfoOf` / `reasonOf` / `reasonsOf` /
 *   `fieldViolationsOf` / `preconditionViolationsOf` read the details.
 * - Domain side: `domainFailure` (a promise) and `domainThrown` (a function)
 *   return the DomainError a use case or domain function fails with.
 */
import { ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  PreconditionFailureSchema,
  type BadRequest_FieldViolation,
  type ErrorInfo,
  type PreconditionFailure_Violation,
} from "../../gen/google/rpc/error_details_pb.js";
import { DomainError } from "../../src/kernel/errors.js";

/** The ConnectError `call` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rpcFailure(call: Promise<unknown>): Promise<ConnectError> {
  const outcome = await call.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error("expected the call to fail");
  if (!(outcome.error instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(outcome.error)}`);
  return outcome.error;
}

/** The first google.rpc.ErrorInfo detail, if any. */
export function errorInfoOf(err: ConnectError): ErrorInfo | undefined {
  return err.findDetails(ErrorInfoSchema)[0];
}

/** ErrorInfo.reason of the first ErrorInfo detail ("" when there is none). */
export function reasonOf(err: ConnectError): string {
  return errorInfoOf(err)?.reason ?? "";
}

/** The reason of every ErrorInfo detail, in order (to assert there is exactly one). */
export function reasonsOf(err: ConnectError): string[] {
  return err.findDetails(ErrorInfoSchema).map((d) => d.reason);
}

/** Every google.rpc.BadRequest field violation, across all BadRequest details. */
export function fieldViolationsOf(err: ConnectError): BadRequest_FieldViolation[] {
  return err.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations);
}

/** Every google.rpc.PreconditionFailure violation, across all PreconditionFailure details. */
export function preconditionViolationsOf(err: ConnectError): PreconditionFailure_Violation[] {
  return err.findDetails(PreconditionFailureSchema).flatMap((p) => p.violations);
}

/** The DomainError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function domainFailure(p: Promise<unknown>): Promise<DomainError> {
  const outcome = await p.then(
    () => ({ resolved: true as const }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved || !(outcome.error instanceof DomainError)) {
    throw new Error(`expected a DomainError, got ${outcome.resolved ? "success" : String(outcome.error)}`);
  }
  return outcome.error;
}

/** The DomainError `run` throws; rethrows any other error, fails the test if it returns. */
export function domainThrown(run: () => unknown): DomainError {
  try {
    run();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error("expected a DomainError");
}
