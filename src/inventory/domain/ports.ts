/** Persistence of the inventory. Implementations translate their own errors. */
import type { CallContext } from "../../kernel/call-context.js";
import type { TransitionPlan } from "./lifecycle.js";
import type { Product } from "./product.js";
import type { Reservation, ReservationRequest } from "./reservation.js";
import type { ReturnRequest } from "./stock-return.js";

/** An absolute stock take or a signed delta. */
export type StockChange = { readonly set: bigint } | { readonly add: bigint };

export interface ProductListQuery {
  /** Products with a SKU after this one (the last of the previous page). */
  readonly afterSku?: string;
  readonly limit: number;
}

export interface ProductRepository {
  /** Throws ALREADY_EXISTS SKU_TAKEN when the SKU is used. */
  insert(product: Product): Promise<Product>;
  /** Inserts unless the id or SKU exists; returns whether it inserted. */
  insertIfAbsent(product: Product): Promise<boolean>;
  findById(id: string): Promise<Product | undefined>;
  /** Ordered by SKU. */
  list(query: ProductListQuery): Promise<Product[]>;
  /**
   * Locks the product, computes its catalog fields with `fn` (pure; may
   * throw) and writes them; stock is never touched. NOT_FOUND
   * PRODUCT_NOT_FOUND, ALREADY_EXISTS SKU_TAKEN.
   */
  update(id: string, fn: (current: Product) => Product, cx?: CallContext): Promise<Product>;
  /**
   * Changes stock on hand with a guarded statement. NOT_FOUND
   * PRODUCT_NOT_FOUND; FAILED_PRECONDITION STOCK_BELOW_RESERVED when the
   * result would be below what is reserved.
   */
  changeStock(id: string, change: StockChange, now: Date, cx?: CallContext): Promise<Product>;
}

export interface ReservationRepository {
  /**
   * In one transaction: records the reservation (or finds the one with its
   * id), holds stock for every line or fails. `created` is false for a
   * repeat, which returns the stored reservation after checking its lines
   * (IDEMPOTENCY_KEY_REUSED). NOT_FOUND PRODUCT_NOT_FOUND; FAILED_PRECONDITION
   * INSUFFICIENT_STOCK.
   */
  reserve(request: ReservationRequest, cx?: CallContext): Promise<{ reservation: Reservation; created: boolean }>;
  /** Reservations are per owner (the principal that made them): another owner's is not found. */
  findById(owner: string, id: string): Promise<Reservation | undefined>;
  /**
   * The common commit as one guarded change: a PENDING reservation not yet
   * due at `now` becomes COMMITTED and its stock is sold. Undefined (nothing
   * changed) for a reservation in any other state; `transition` decides those.
   */
  commitPending(owner: string, id: string, now: Date): Promise<Reservation | undefined>;
  /**
   * Locks the reservation, asks `plan` for its next status and, when there is
   * one, changes the status with a guarded statement and then moves the
   * stock, in one transaction. NOT_FOUND RESERVATION_NOT_FOUND.
   */
  transition(owner: string, id: string, plan: TransitionPlan, now: Date, cx?: CallContext): Promise<Reservation>;
  /**
   * In one transaction, under the reservation's row lock: a repeat of a
   * recorded return id is checked (IDEMPOTENCY_KEY_REUSED) and answered
   * with the reservation as it is; a new return is planned (planReturn),
   * recorded, added to its lines' returned quantities and restocked (stock
   * on hand += q, with its stock events). `returned` is false for a repeat.
   * NOT_FOUND RESERVATION_NOT_FOUND; FAILED_PRECONDITION as planReturn, or
   * STOCK_OUT_OF_RANGE.
   */
  returnStock(request: ReturnRequest, cx?: CallContext): Promise<{ reservation: Reservation; returned: boolean }>;
  /**
   * Expires up to `limit` pending reservations due at `now` (skipping those
   * locked by a concurrent commit or release) and returns their stock.
   * Returns the ids it expired.
   */
  expireDue(now: Date, limit: number): Promise<string[]>;
}
