/**
 * The customers module: repository → use cases → ServiceImpl, plus demo data.
 * The composition root wraps `impl` (validation, error mapping) and serves it.
 */
import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import type { Db } from "../platform/db.js";
import type { Logger } from "../platform/logger.js";
import { createCreateCustomer } from "./app/create-customer.js";
import { createGetCustomer } from "./app/get-customer.js";
import { createListCustomers } from "./app/list-customers.js";
import type { CustomerAppPorts } from "./app/ports.js";
import { createUpdateCustomer } from "./app/update-customer.js";
import { newCustomer, type NewCustomerInput } from "./domain/customer.js";
import { createCustomerRepository } from "./infra/customer-repository.js";
import { createCustomerServiceImpl } from "./rpc/customer-service.js";

export interface CustomersModuleDeps {
  db: Db;
  logger: Logger;
  defaultDeadlineMs: number;
}

export interface CustomersModule {
  impl: ServiceImpl<typeof CustomerService>;
  /** Idempotently inserts the README's demo customers (fixed ids). */
  seedDemo(): Promise<void>;
}

export const DEMO_CUSTOMERS: readonly (NewCustomerInput & { id: string })[] = [
  { id: "11111111-1111-4111-8111-111111111111", displayName: "Ada Lovelace", email: "ada@example.com", tier: "STANDARD" },
  { id: "22222222-2222-4222-8222-222222222222", displayName: "Grace Hopper", email: "grace@example.com", tier: "VIP" },
];

export function createCustomersModule(deps: CustomersModuleDeps): CustomersModule {
  const logger = deps.logger.child({ module: "customers" });
  const ports: CustomerAppPorts = {
    repo: createCustomerRepository(deps.db),
    now: () => new Date(),
    newId: randomUUID,
  };
  const useCases = {
    createCustomer: createCreateCustomer(ports),
    getCustomer: createGetCustomer(ports),
    listCustomers: createListCustomers(ports),
    updateCustomer: createUpdateCustomer(ports),
  };
  return {
    impl: createCustomerServiceImpl(useCases, deps.defaultDeadlineMs),
    async seedDemo() {
      for (const { id, ...input } of DEMO_CUSTOMERS) {
        const inserted = await ports.repo.insertIfAbsent(newCustomer(id, input, ports.now()));
        if (inserted) logger.info({ customerId: id }, "demo customer created");
      }
    },
  };
}
