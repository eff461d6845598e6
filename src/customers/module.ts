/**
 * The customers module: repository → use cases → ServiceImpl, plus demo data.
 * The composition root wraps `impl` (validation, error mapping) and serves it.
 */
import { randomUUID } from "node:crypto";
import type { CustomerService } from "../../gen/customers/v1/customer_service_pb.js";
import type { Db } from "../platform/db.js";
import type { RpcImpl } from "../platform/rpc/handlers.js";
import type { Logger } from "../platform/logger.js";
import type { CustomerAppPorts } from "./app/ports.js";
import { createCustomerUseCases, type CustomerUseCases } from "./app/use-cases.js";
import { newCustomer, type Customer, type NewCustomerInput } from "./domain/customer.js";
import { createCustomerRepository } from "./infra/customer-repository.js";
import { createCustomerServiceImpl } from "./rpc/customer-service.js";

export interface CustomersModuleDeps {
  db: Db;
  logger: Logger;
  /** Told of every customer a call read or wrote (admission's tier cache keeps tiers from it). */
  onCustomerSeen?: (customer: Customer) => void;
}

export interface CustomersModule {
  impl: RpcImpl<typeof CustomerService>;
  /** Idempotently inserts the README's demo customers (fixed ids). */
  seedDemo(): Promise<void>;
  /** Every VIP customer's id and row version, at most `limit` (admission's tier roster). */
  vipRoster(limit: number): Promise<{ id: string; version: number }[]>;
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
  const useCases = observed(createCustomerUseCases(ports), deps.onCustomerSeen);
  return {
    impl: createCustomerServiceImpl(useCases),
    vipRoster: (limit) => ports.repo.listVips(limit),
    async seedDemo() {
      for (const { id, ...input } of DEMO_CUSTOMERS) {
        const inserted = await ports.repo.insertIfAbsent(newCustomer(id, input, ports.now()));
        if (inserted) logger.info({ customerId: id }, "demo customer created");
      }
    },
  };
}

/** The use cases, telling `seen` of each customer that Create/Get/UpdateCustomer returns. */
function observed(u: CustomerUseCases, seen: ((c: Customer) => void) | undefined): CustomerUseCases {
  if (!seen) return u;
  const tell = (c: Customer) => {
    seen(c);
    return c;
  };
  return {
    ...u,
    createCustomer: (cx, input) => u.createCustomer(cx, input).then(tell),
    getCustomer: (cx, id) => u.getCustomer(cx, id).then(tell),
    updateCustomer: (cx, input) => u.updateCustomer(cx, input).then(tell),
  };
}
