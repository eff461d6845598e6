/** A CustomersModule on a fresh database, served by the in-memory Connect router. */
import { createValidator } from "@bufbuild/protovalidate";
import { Code, createClient, createRouterTransport, type Client, type ConnectError } from "@connectrpc/connect";
import pino from "pino";
import { expect } from "vitest";
import { CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import { createCustomersModule, type CustomersModule } from "../../../src/customers/module.js";
import { wrapService } from "../../../src/platform/handlers.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";
import { fieldViolationsOf, reasonsOf } from "../../support/rpc-errors.js";

export interface CustomersHarness {
  readonly database: TestDatabase;
  readonly module: CustomersModule;
  readonly client: Client<typeof CustomerService>;
}

export async function createCustomersHarness(): Promise<CustomersHarness> {
  const database = await createTestDatabase();
  const logger = pino({ level: "silent" });
  const module = createCustomersModule({ db: database.db, logger, defaultDeadlineMs: 5_000 });
  const wrapped = wrapService(CustomerService, module.impl, { validator: createValidator(), logger }).impl;
  const transport = createRouterTransport(({ service }) => service(CustomerService, wrapped));
  return { database, module, client: createClient(CustomerService, transport) };
}

/** Asserts code and ErrorInfo.reason; returns the BadRequest field names (sorted). */
export function expectError(err: ConnectError, code: Code, reason: string): string[] {
  expect(Code[err.code]).toBe(Code[code]);
  expect(reasonsOf(err)).toEqual([reason]);
  return fieldViolationsOf(err).map((v) => v.field).sort();
}
