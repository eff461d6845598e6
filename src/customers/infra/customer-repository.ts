/**
 * Customers in Postgres through Drizzle. update() is the one read-modify-write:
 * it locks the row (select ... for update) inside a transaction, so concurrent
 * updates serialise and none is lost.
 */
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { boundedTransaction } from "../../platform/bounded.js";
import type { Db } from "../../platform/db.js";
import type { Customer, CustomerStatus, CustomerTier } from "../domain/customer.js";
import { customerNotFound, emailTaken } from "../domain/errors.js";
import type { CustomerRepository, ListPageQuery } from "../domain/ports.js";
import { isUniqueViolation } from "../../platform/pg-errors.js";
import { customers, EMAIL_UNIQUE_INDEX, type CustomerRow } from "./schema.js";

export function createCustomerRepository(db: Db): CustomerRepository {
  // Every CreateOrder reads its customer: built once, prepared on the server.
  const byId = db
    .select()
    .from(customers)
    .where(eq(customers.id, sql.placeholder("id")))
    .limit(1)
    .prepare("customers_find_by_id");
  return {
    async insert(customer) {
      const rows = await translate(() => db.insert(customers).values(toRow(customer)).returning());
      return toDomain(rows[0]);
    },

    async insertIfAbsent(customer) {
      const rows = await db.insert(customers).values(toRow(customer)).onConflictDoNothing().returning();
      return rows.length > 0;
    },

    async findById(id) {
      const rows = await byId.execute({ id });
      return rows[0] && toDomain(rows[0]);
    },

    async list(query) {
      const rows = await db
        .select()
        .from(customers)
        .where(and(...listConditions(query)))
        .orderBy(desc(customers.createTime), desc(customers.id))
        .limit(query.limit);
      return rows.map(toDomain);
    },

    listVips: (limit) => db.select({ id: customers.id, version: customers.version }).from(customers).where(eq(customers.tier, "VIP")).limit(limit),

    update: (id, fn, cx) =>
      translate(() =>
        boundedTransaction(db, cx, async (tx) => {
          const rows = await tx.select().from(customers).where(eq(customers.id, id)).for("update");
          if (!rows[0]) throw customerNotFound(id);
          const current = toDomain(rows[0]);
          const next = fn(current);
          if (next === current) return current;
          const { id: _id, createTime: _c, ...changes } = toRow(next);
          await tx.update(customers).set(changes).where(eq(customers.id, id));
          return next;
        }, "customers_update_tx"),
      ),
  };
}

function listConditions(q: ListPageQuery): SQL[] {
  const conditions: SQL[] = [];
  if (q.tier) conditions.push(eq(customers.tier, q.tier));
  if (q.status) conditions.push(eq(customers.status, q.status));
  // The expression of the unique index on lower(email) (EMAIL_UNIQUE_INDEX): one index probe.
  if (q.email !== undefined) conditions.push(sql`lower(${customers.email}) = lower(${q.email})`);
  if (q.after) {
    const at = q.after.createTime.toISOString();
    conditions.push(sql`(${customers.createTime}, ${customers.id}) < (${at}::timestamptz, ${q.after.id}::uuid)`);
  }
  return conditions;
}

async function translate<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUniqueViolation(err, EMAIL_UNIQUE_INDEX)) throw emailTaken();
    throw err;
  }
}

function toRow(c: Customer): CustomerRow {
  return {
    id: c.id,
    email: c.email,
    displayName: c.displayName,
    tier: c.tier,
    status: c.status,
    version: c.version,
    createTime: c.createTime,
    updateTime: c.updateTime,
  };
}

function toDomain(r: CustomerRow): Customer {
  return {
    id: r.id,
    email: r.email,
    displayName: r.displayName,
    tier: r.tier as CustomerTier,
    status: r.status as CustomerStatus,
    version: r.version,
    createTime: r.createTime,
    updateTime: r.updateTime,
  };
}
