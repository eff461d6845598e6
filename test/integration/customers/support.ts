/** The app hosting only CustomerService on a fresh database (createApp, as in production), called in process. */
import { asPermitted } from "../../support/auth.js";
import { Code, createClient, type Client, type ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";
import { CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import type { CustomersModule } from "../../../src/customers/module.js";
import type { TestDatabase } from "../../support/db.js";
import { fieldViolationsOf, reasonsOf } from "../../support/rpc-errors.js";
import { startTestStack, type TestStack } from "../../support/servers.js";

export interface CustomersHarness {
  readonly stack: TestStack;
  readonly database: TestDatabase;
  readonly module: CustomersModule;
  readonly client: Client<typeof CustomerService>;
  close(): Promise<void>;
}

export async function createCustomersHarness(): Promise<CustomersHarness> {
  const stack = await startTestStack({ config: { services: ["customers"] } });
  return {
    stack,
    database: stack.database,
    module: stack.app.modules.customers!,
    client: createClient(CustomerService, asPermitted(stack.transport)),
    close: () => stack.close(),
  };
}

/** Asserts code and ErrorInfo.reason; returns the BadRequest field names (sorted). */
export function expectError(err: ConnectError, code: Code, reason: string): string[] {
  expect(Code[err.code]).toBe(Code[code]);
  expect(reasonsOf(err)).toEqual([reason]);
  return fieldViolationsOf(err).map((v) => v.field).sort();
}
