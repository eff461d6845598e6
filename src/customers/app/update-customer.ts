import type { CallContext } from "../../kernel/call-context.js";
import { applyUpdate, type Customer, type CustomerUpdate } from "../domain/customer.js";
import type { CustomerAppPorts } from "./ports.js";

export type UpdateCustomer = (id: string, update: CustomerUpdate, cx: CallContext) => Promise<Customer>;

export function createUpdateCustomer({ repo, now }: Pick<CustomerAppPorts, "repo" | "now">): UpdateCustomer {
  return async (id, update, cx) => {
    cx.signal.throwIfAborted();
    return repo.update(id, (current) => applyUpdate(current, update, now()));
  };
}
