/** Proto ↔ domain translation for customers. Proto types stop here. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  CustomerSchema,
  CustomerStatus as PbStatus,
  CustomerTier as PbTier,
  type Customer as PbCustomer,
} from "../../../gen/customers/v1/customer_service_pb.js";
import { etagOf, type Customer, type CustomerStatus, type CustomerTier } from "../domain/customer.js";

const TIER_TO_PB: Record<CustomerTier, PbTier> = { STANDARD: PbTier.STANDARD, VIP: PbTier.VIP };
const STATUS_TO_PB: Record<CustomerStatus, PbStatus> = {
  ACTIVE: PbStatus.ACTIVE,
  SUSPENDED: PbStatus.SUSPENDED,
};

/** UNSPECIFIED (or unset) → undefined. Validation has rejected unknown values. */
export function tierFromPb(tier: PbTier | undefined): CustomerTier | undefined {
  if (tier === PbTier.STANDARD) return "STANDARD";
  if (tier === PbTier.VIP) return "VIP";
  return undefined;
}

export function statusFromPb(status: PbStatus | undefined): CustomerStatus | undefined {
  if (status === PbStatus.ACTIVE) return "ACTIVE";
  if (status === PbStatus.SUSPENDED) return "SUSPENDED";
  return undefined;
}

export function customerToPb(c: Customer): PbCustomer {
  return create(CustomerSchema, {
    id: c.id,
    email: c.email,
    displayName: c.displayName,
    tier: TIER_TO_PB[c.tier],
    status: STATUS_TO_PB[c.status],
    etag: etagOf(c),
    createTime: timestampFromDate(c.createTime),
    updateTime: timestampFromDate(c.updateTime),
  });
}
