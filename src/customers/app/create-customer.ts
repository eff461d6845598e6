import type { CallContext } from "../../kernel/call-context.js";
import { newCustomer, type Customer, type NewCustomerInput } from "../domain/customer.js";
import type { CustomerAppPorts } from "./ports.js";

export type CreateCustomer = (cx: CallContext, input: NewCustomerInput) => Promise<Customer>;

export function createCreateCustomer({ repo, now, newId }: CustomerAppPorts): CreateCustomer {
  return async (cx, input) => {
    return repo.insert(newCustomer(newId(), input, now()));
  };
}
