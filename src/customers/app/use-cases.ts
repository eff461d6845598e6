/** Every customer use case, built from one set of ports: what rpc/ calls. */
import { createCreateCustomer, type CreateCustomer } from "./create-customer.js";
import { createGetCustomer, type GetCustomer } from "./get-customer.js";
import { createListCustomers, type ListCustomers } from "./list-customers.js";
import type { CustomerAppPorts } from "./ports.js";
import { createUpdateCustomer, type UpdateCustomer } from "./update-customer.js";

export interface CustomerUseCases {
  readonly createCustomer: CreateCustomer;
  readonly getCustomer: GetCustomer;
  readonly listCustomers: ListCustomers;
  readonly updateCustomer: UpdateCustomer;
}

export function createCustomerUseCases(ports: CustomerAppPorts): CustomerUseCases {
  return {
    createCustomer: createCreateCustomer(ports),
    getCustomer: createGetCustomer(ports),
    listCustomers: createListCustomers(ports),
    updateCustomer: createUpdateCustomer(ports),
  };
}
