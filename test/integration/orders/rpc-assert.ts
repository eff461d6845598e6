/** Assertions on RPC failures: code, ErrorInfo reason, details. */
import { Code, ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";
import { ErrorInfoSchema, PreconditionFailureSchema } from "../../../gen/google/rpc/error_details_pb.js";

export async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

export function reasonOf(err: ConnectError): string {
  return err.findDetails(ErrorInfoSchema)[0]?.reason ?? "";
}

export function violationsOf(err: ConnectError) {
  return err.findDetails(PreconditionFailureSchema)[0]?.violations ?? [];
}

export async function expectFailure(p: Promise<unknown>, code: Code, reason: string): Promise<ConnectError> {
  const err = await failure(p);
  expect({ code: Code[err.code], reason: reasonOf(err) }, err.message).toEqual({ code: Code[code], reason });
  return err;
}
