import type { CallContext } from "../../kernel/call-context.js";
import type { Customer } from "../domain/customer.js";
import { customerNotFound } from "../domain/errors.js";
import type { CustomerAppPorts } from "./ports.js";

export type GetCustomer = (id: string, cx: CallContext) => Promise<Customer>;

export function createGetCustomer({ repo }: Pick<CustomerAppPorts, "repo">): GetCustomer {
  return async (id, cx) => {
    cx.signal.throwIfAborted();
    const customer = await repo.findById(id);
    if (!customer) throw customerNotFound(id);
    return customer;
  };
}
