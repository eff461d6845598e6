import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import type { Customer } from "../domain/customer.js";
import { customerNotFound } from "../domain/errors.js";
import type { CustomerAppPorts } from "./ports.js";

export type GetCustomer = (cx: CallContext, customerId: string) => Promise<Customer>;

export function createGetCustomer({ repo }: Pick<CustomerAppPorts, "repo">): GetCustomer {
  return async (cx, id) => {
    const own = customerScope(cx.principal);
    if (own !== undefined && id.toLowerCase() !== own) throw customerNotFound(id); // never someone else's
    const customer = await repo.findById(id);
    if (!customer) throw customerNotFound(id);
    return customer;
  };
}
