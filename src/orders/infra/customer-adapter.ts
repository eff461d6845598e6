/** CustomerPort over the generated CustomerService client. */
import type { Client } from "@connectrpc/connect";
import { CustomerService, CustomerStatus, CustomerTier } from "../../../gen/customers/v1/customer_service_pb.js";
import { callOptions, fromRemoteError, type DeadlinePolicy } from "../../platform/rpc/remote.js";
import type { CustomerPort } from "../domain/ports.js";

export function createCustomerAdapter(client: Client<typeof CustomerService>, policy: DeadlinePolicy): CustomerPort {
  return {
    async get(cx, customerId) {
      try {
        const res = await client.getCustomer({ customerId }, callOptions(cx, policy));
        const c = res.customer;
        if (!c) throw new Error(`customers answered GetCustomer ${customerId} without a customer`);
        // The enum's own names (a fixed set): a value newer than this build's is UNKNOWN.
        return { id: c.id, active: c.status === CustomerStatus.ACTIVE, tier: CustomerTier[c.tier] ?? "UNKNOWN" };
      } catch (err) {
        throw fromRemoteError(err, "customers");
      }
    },
    async findIdByEmail(cx, email) {
      try {
        // A page of one or none: the email is unique regardless of letter case.
        const res = await client.listCustomers({ email, pageSize: 1 }, callOptions(cx, policy));
        return res.customers[0]?.id;
      } catch (err) {
        throw fromRemoteError(err, "customers");
      }
    },
  };
}
