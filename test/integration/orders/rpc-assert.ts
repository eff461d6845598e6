/** Assertions on RPC failures: code and ErrorInfo reason in one go. */
import { Code, type ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";
import { reasonOf, rpcFailure } from "../../support/rpc-errors.js";

export async function expectFailure(p: Promise<unknown>, code: Code, reason: string): Promise<ConnectError> {
  const err = await rpcFailure(p);
  expect({ code: Code[err.code], reason: reasonOf(err) }, err.message).toEqual({ code: Code[code], reason });
  return err;
}
