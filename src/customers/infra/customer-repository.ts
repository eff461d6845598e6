/**
 * Customers in Postgres through Drizzle. update() is the one read-modify-write:
 * it locks the row (select ... for update) inside a transaction, so concurrent
 * updates serialise and none is lost.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import { boundedTransaction } from "../../platform/bounded.js";
import type { Db } from "../../platform/db.js";
import { prepareStatement, shapeOf, type PageFilter } from "../../platform/statements.js";
import type { Customer, CustomerStatus, CustomerTier } from "../domain/customer.js";
import { customerNotFound, emailTaken } from "../domain/errors.js";
import type { CustomerRepository, ListPageQuery } from "../domain/ports.js";
import { isUniqueViolation } from "../../platform/pg-errors.js";
import { customers, EMAIL_UNIQUE_INDEX, type CustomerRow } from "./schema.js";

export function createCustomerRepository(db: Db): CustomerRepository {
  // Every CreateOrder reads its customer: built once, prepared on the server, timed and traced as a statement.
  const byId = prepareStatement<CustomerRawRow>(db, "customers_find_by_id", FIND_BY_ID);
  // ListCustomers (and SearchOrders' email lookup): one prepared statement per shape (which filters are set, ≤ 16).
  const pages = new Map<string, ReturnType<typeof preparePage>>();
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
      const [row] = await byId({ id });
      return row && fromRaw(row);
    },

    async list(query) {
      const filters = listFilters(query);
      const { key, values } = shapeOf(filters, { limit: query.limit });
      let page = pages.get(key);
      if (!page) pages.set(key, (page = preparePage(db, filters)));
      const rows = await page.execute(values);
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

/** ListPageQuery's filters: each set filter's shape, value and SQL (built once per shape, `preparePage`). */
function listFilters(q: ListPageQuery): PageFilter[] {
  const filters: PageFilter[] = [];
  if (q.tier) filters.push({ key: "tier", values: { tier: q.tier }, where: () => eq(customers.tier, sql.placeholder("tier")) });
  if (q.status) filters.push({ key: "status", values: { status: q.status }, where: () => eq(customers.status, sql.placeholder("status")) });
  // The expression of the unique index on lower(email) (EMAIL_UNIQUE_INDEX): one index probe.
  if (q.email !== undefined) {
    filters.push({ key: "email", values: { email: q.email }, where: () => sql`lower(${customers.email}) = lower(${sql.placeholder("email")})` });
  }
  if (q.after) {
    filters.push({
      key: "after",
      values: { afterTime: q.after.createTime.toISOString(), afterId: q.after.id },
      where: () => sql`(${customers.createTime}, ${customers.id}) < (${sql.placeholder("afterTime")}::timestamptz, ${sql.placeholder("afterId")}::uuid)`,
    });
  }
  return filters;
}

function preparePage(db: Db, filters: readonly PageFilter[]) {
  return db
    .select()
    .from(customers)
    .where(and(...filters.map((f) => f.where())))
    .orderBy(desc(customers.createTime), desc(customers.id))
    .limit(sql.placeholder("limit"))
    .prepare("customers_list");
}

async function translate<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isUniqueViolation(err, EMAIL_UNIQUE_INDEX)) throw emailTaken();
    throw err;
  }
}

/** GetCustomer's read as one statement (the driver's raw row: times as epoch milliseconds, as statements.ts asks). */
const FIND_BY_ID = sql`
select ${customers.id} as "id", ${customers.email} as "email", ${customers.displayName} as "displayName", ${customers.tier} as "tier",
  ${customers.status} as "status", ${customers.version} as "version",
  floor(extract(epoch from ${customers.createTime}) * 1000)::float8 as "createMs", floor(extract(epoch from ${customers.updateTime}) * 1000)::float8 as "updateMs"
from ${customers} where ${customers.id} = ${sql.placeholder("id")}::uuid limit 1`;

interface CustomerRawRow {
  id: string;
  email: string;
  displayName: string;
  tier: string;
  status: string;
  version: number;
  createMs: number;
  updateMs: number;
}

const fromRaw = (r: CustomerRawRow): Customer =>
  toDomain({ ...r, createTime: new Date(r.createMs), updateTime: new Date(r.updateMs) });

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
