/** The inventory's domain errors, each with its stable reason. */
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  type PreconditionViolation,
} from "../../kernel/errors.js";

export const productNotFound = (id: string) =>
  notFound("PRODUCT_NOT_FOUND", `product ${id} not found`, { productId: id });

/** Stock on hand is an int64: a change past its largest value is refused. */
export const stockOutOfRange = (productId: string) =>
  failedPrecondition(
    "STOCK_OUT_OF_RANGE",
    "stock on hand would exceed the largest count that can be stored (2^63 - 1)",
    [{ type: "STOCK_OUT_OF_RANGE", subject: `products/${productId}`, description: "stock on hand would exceed 2^63 - 1" }],
    { productId },
  );

export const productsNotFound = (ids: readonly string[]) =>
  notFound("PRODUCT_NOT_FOUND", `product${ids.length > 1 ? "s" : ""} ${ids.join(", ")} not found`, {
    productId: ids[0],
    productIds: ids.join(","),
  });

export const skuTaken = (sku: string) =>
  alreadyExists("SKU_TAKEN", `SKU ${sku} is already used by another product`, { sku });

export const stockBelowReserved = (productId: string, stockOnHand: bigint, reserved: bigint) =>
  failedPrecondition(
    "STOCK_BELOW_RESERVED",
    `stock on hand ${stockOnHand} would be below the ${reserved} units reserved`,
    [
      {
        type: "STOCK_BELOW_RESERVED",
        subject: `products/${productId}`,
        description: `stock on hand would be ${stockOnHand}, ${reserved} units are reserved`,
      },
    ],
    { productId, stockOnHand: String(stockOnHand), reserved: String(reserved) },
  );

export interface Shortage {
  readonly productId: string;
  readonly requested: bigint;
  readonly available: bigint;
}

export const insufficientStock = (reservationId: string, shortages: readonly Shortage[]) =>
  failedPrecondition(
    "INSUFFICIENT_STOCK",
    `not enough stock for ${shortages.length} product${shortages.length > 1 ? "s" : ""}; nothing was reserved`,
    shortages.map(shortageViolation),
    { reservationId, productIds: shortages.map((s) => s.productId).join(",") },
  );

function shortageViolation(s: Shortage): PreconditionViolation {
  return {
    type: "INSUFFICIENT_STOCK",
    subject: `products/${s.productId}`,
    description: `requested ${s.requested}, available ${s.available}`,
  };
}

export const idempotencyKeyReused = (reservationId: string) =>
  invalidArgument(
    "IDEMPOTENCY_KEY_REUSED",
    `reservation ${reservationId} already exists with other lines`,
    [{ field: "lines", description: "differ from the lines of the reservation already made with this id" }],
    { reservationId },
  );

export const reservationNotFound = (id: string) =>
  notFound("RESERVATION_NOT_FOUND", `reservation ${id} not found`, { reservationId: id });

export const reservationReleased = (id: string) =>
  failedPrecondition("RESERVATION_RELEASED", `reservation ${id} was released`, [], { reservationId: id });

export const reservationExpired = (id: string) =>
  failedPrecondition("RESERVATION_EXPIRED", `reservation ${id} expired before it was committed`, [], {
    reservationId: id,
  });

export const reservationNotCommitted = (id: string) =>
  failedPrecondition("RESERVATION_NOT_COMMITTED", `reservation ${id} is pending: only a committed (sold) reservation takes returns`, [], {
    reservationId: id,
  });

/** One product of a return that asks for more than its reservation sold and still has out. */
export interface Overreturn {
  readonly productId: string;
  readonly returning: number;
  /** 0: the reservation did not sell the product. */
  readonly sold: number;
  readonly returned: number;
}

export const returnExceedsSold = (reservationId: string, returnId: string, over: readonly Overreturn[]) =>
  failedPrecondition(
    "RETURN_EXCEEDS_SOLD",
    `return ${returnId} asks for more than reservation ${reservationId} sold of ${over.length} product${over.length > 1 ? "s" : ""}; nothing was returned`,
    over.map((o) => ({
      type: "RETURN_EXCEEDS_SOLD",
      subject: `products/${o.productId}`,
      description:
        o.sold === 0
          ? `returning ${o.returning}, the reservation did not sell this product`
          : `returning ${o.returning}, sold ${o.sold}, already returned ${o.returned}`,
    })),
    { reservationId, returnId, productIds: over.map((o) => o.productId).join(",") },
  );

/** The return id was used (on this reservation) for another return: other lines or another reason. */
export const returnIdReused = (reservationId: string, returnId: string, field: "lines" | "reason") =>
  invalidArgument(
    "IDEMPOTENCY_KEY_REUSED",
    `return ${returnId} of reservation ${reservationId} was already made with other ${field === "lines" ? "lines" : "a different reason"}`,
    [{ field, description: `differs from the ${field} of the return already made with this return_id` }],
    { reservationId, returnId },
  );
