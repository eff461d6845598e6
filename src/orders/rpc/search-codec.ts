/** SearchOrdersRequest → the search's input. Requests arrive validated (wrapService): enums known and set, digits well formed. */
import {
  FulfilmentStatus as ProtoFulfilmentStatus,
  PaymentStatus as ProtoPaymentStatus,
  type SearchOrdersRequest,
} from "../../../gen/orders/v1/order_service_pb.js";
import type { FulfilmentStatus } from "../domain/fulfilment.js";
import type { PaymentStatus } from "../domain/payment.js";
import type { NumberFilter } from "../domain/ports.js";
import type { SearchOrdersInput } from "../app/search-orders.js";
import { toListQuery } from "./order-codec.js";

/** Validation (not_in: [0], defined_only) guarantees a known, set status. */
function fromProtoPaymentStatus(s: ProtoPaymentStatus): PaymentStatus {
  const name = ProtoPaymentStatus[s];
  if (name === undefined || s === ProtoPaymentStatus.UNSPECIFIED) throw new RangeError(`unexpected payment status ${s}`);
  return name as PaymentStatus;
}

/** Validation (not_in: [0], defined_only) guarantees a known, set status. */
function fromProtoFulfilmentStatus(s: ProtoFulfilmentStatus): FulfilmentStatus {
  const name = ProtoFulfilmentStatus[s];
  if (name === undefined || s === ProtoFulfilmentStatus.UNSPECIFIED) throw new RangeError(`unexpected fulfilment status ${s}`);
  return name as FulfilmentStatus;
}

function numberFilterOf(f: SearchOrdersRequest["numberFilter"]): NumberFilter | undefined {
  switch (f.case) {
    case "number":
      return { exact: f.value };
    case "numberPrefix":
      return { prefix: f.value };
    default:
      return undefined;
  }
}

export function toSearchOrdersInput(req: SearchOrdersRequest): SearchOrdersInput {
  return {
    query: {
      ...toListQuery(req),
      number: numberFilterOf(req.numberFilter),
      paymentStatuses: req.paymentStatuses.map(fromProtoPaymentStatus),
      fulfilmentStatuses: req.fulfilmentStatuses.map(fromProtoFulfilmentStatus),
      tag: req.tag || undefined,
    },
    customerEmail: req.customerEmail || undefined,
    pageSize: req.pageSize,
    pageToken: req.pageToken,
  };
}
