/**
 * The tier cache's source: GetCustomer through the generated client — in
 * process as service:orders when customers is co-hosted (nested work:
 * admission lets it through, so a lookup never queues behind the gate it
 * serves), else over gRPC with the order module's service token (a
 * PRIORITY call at the customers service).
 */
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { CustomerTier, type CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import type { TierLookup } from "./tier-cache.js";

/** A lookup slower than this answers STANDARD for now (tier-cache.ts holds the failure a second). */
const LOOKUP_TIMEOUT_MS = 2000;

export function createTierLookup(customers: Client<typeof CustomerService>): TierLookup {
  return async (customerId) => {
    try {
      const { customer } = await customers.getCustomer({ customerId }, { timeoutMs: LOOKUP_TIMEOUT_MS });
      if (!customer) return undefined;
      return { tier: customer.tier === CustomerTier.VIP ? "VIP" : "STANDARD", version: Number(customer.etag) || 0 };
    } catch (err) {
      // No such customer (yet): STANDARD, until a created record (version ≥ 1) says otherwise.
      if (ConnectError.from(err).code === Code.NotFound) return { tier: "STANDARD", version: 0 };
      throw err;
    }
  };
}
