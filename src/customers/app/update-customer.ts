import type { CallContext } from "../../kernel/call-context.js";
import { customerScope } from "../../kernel/principal.js";
import { customerNotFound } from "../domain/errors.js";
import { applyUpdate, type Customer, type CustomerUpdate } from "../domain/customer.js";
import type { CustomerAppPorts } from "./ports.js";

export interface UpdateCustomerInput extends CustomerUpdate {
  readonly customerId: string;
}

export type UpdateCustomer = (cx: CallContext, input: UpdateCustomerInput) => Promise<Customer>;

export function createUpdateCustomer({ repo, now }: Pick<CustomerAppPorts, "repo" | "now">): UpdateCustomer {
  return async (cx, { customerId: id, ...update }) => {
    const own = customerScope(cx.principal);
    if (own !== undefined && id.toLowerCase() !== own) throw customerNotFound(id); // never someone else's
    return repo.update(id, (current) => applyUpdate(current, update, now()), cx);
  };
}
