/** A CustomersModule on a fresh database, served by the in-memory Connect router. */
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, createClient, createRouterTransport, type Client } from "@connectrpc/connect";
import pino from "pino";
import { expect } from "vitest";
import { CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import { BadRequestSchema, ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { createCustomersModule, type CustomersModule } from "../../../src/customers/module.js";
import { wrapService } from "../../../src/platform/handlers.js";
import { createTestDatabase, type TestDatabase } from "../../support/db.js";

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

export async function failure(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof ConnectError)) throw new Error(`expected a ConnectError, got ${String(err)}`);
  return err;
}

/** Asserts code and ErrorInfo.reason; returns the BadRequest field names (sorted). */
export function expectError(err: ConnectError, code: Code, reason: string): string[] {
  expect(Code[err.code]).toBe(Code[code]);
  expect(err.findDetails(ErrorInfoSchema).map((d) => d.reason)).toEqual([reason]);
  return err
    .findDetails(BadRequestSchema)
    .flatMap((b) => b.fieldViolations.map((v) => v.field))
    .sort();
}
