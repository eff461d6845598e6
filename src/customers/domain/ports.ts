import type { CallContext } from "../../kernel/call-context.js";
import type { Customer, CustomerStatus, CustomerTier } from "./customer.js";

/** Position after which a page starts (the last row of the previous page). */
export interface ListCursor {
  readonly createTime: Date;
  readonly id: string;
}

export interface CustomerFilter {
  readonly tier?: CustomerTier;
  readonly status?: CustomerStatus;
  /** Only the customer with this email, compared regardless of letter case (as its uniqueness is). */
  readonly email?: string;
}

export interface ListPageQuery extends CustomerFilter {
  readonly limit: number;
  readonly after?: ListCursor;
}

/** Persistence of customers. Implementations translate their own errors. */
export interface CustomerRepository {
  /** Throws ALREADY_EXISTS EMAIL_TAKEN when the email is used (any case). */
  insert(customer: Customer): Promise<Customer>;
  /** Inserts unless the id or email exists; returns whether it inserted. */
  insertIfAbsent(customer: Customer): Promise<boolean>;
  findById(id: string): Promise<Customer | undefined>;
  /** The VIP customers' ids and row versions, at most `limit` of them (admission's roster). */
  listVips(limit: number): Promise<{ id: string; version: number }[]>;
  /** Newest first: create_time desc, id desc. */
  list(query: ListPageQuery): Promise<Customer[]>;
  /**
   * Locks the customer, computes its next state with `fn` (pure; may throw),
   * writes it when it differs. NOT_FOUND CUSTOMER_NOT_FOUND when absent,
   * ALREADY_EXISTS EMAIL_TAKEN when the new email is used.
   */
  update(id: string, fn: (current: Customer) => Customer, cx?: CallContext): Promise<Customer>;
}
