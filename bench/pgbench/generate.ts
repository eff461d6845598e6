/**
 * Renders bench/pgbench/create-order.sql — the database's ceiling for
 * CreateOrder — from the service's own statements, so the ceiling runs
 * exactly the SQL the service does, whatever it becomes:
 *
 *   npx tsx bench/pgbench/generate.ts          # writes the script
 *   npx tsx bench/pgbench/generate.ts --check  # exits 1 if it is stale
 *
 * test/unit/bench/pgbench-script.test.ts fails when the committed script is
 * not what this renders, and test/integration/orders/create-order-statements.test.ts
 * holds CREATE_ORDER_STATEMENTS to the statements a CreateOrder really runs
 * (and runs the script under pgbench on Postgres).
 *
 * Each statement is the prepared statement's text as the server receives it
 * (src/platform/statements.ts `renderedStatement`), with every `$n` replaced
 * by the pgbench variable its placeholder maps to below — or by `null` where
 * a CreateOrder passes null. The variables are drawn per transaction by the
 * first select (`VALUES`), the one statement the service does not run: it
 * computes in SQL what the service computes in JavaScript.
 */
import { writeFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { createCustomerRepository } from "../../src/customers/infra/customer-repository.js";
import { createReservationStatements } from "../../src/inventory/infra/reservation-statements.js";
import { ORDER_EVENT_TYPES } from "../../src/orders/domain/timeline.js";
import { createOrderStatements } from "../../src/orders/infra/order-statements.js";
import type { Db } from "../../src/platform/db.js";
import { renderedStatement } from "../../src/platform/statements.js";

export const SCRIPT_PATH = fileURLToPath(new URL("./create-order.sql", import.meta.url));

/** A placeholder's pgbench variable, or NULL: the service passes null there in a CreateOrder. */
const NULL = Symbol("null");
type Binding = string | typeof NULL;

interface ScriptStatement {
  readonly name: string;
  readonly title: string;
  /** Placeholder name → variable; a placeholder not listed maps to the variable of its own name. */
  readonly bind: Readonly<Record<string, Binding>>;
}

const TIMELINE_NULLS = { timelineSubjectId: NULL, timelineCurrency: NULL, timelineAmountMinor: NULL } as const;

/** The statements of one CreateOrder (two items, no note), in the order the service runs them. */
export const CREATE_ORDER_STATEMENTS: readonly ScriptStatement[] = [
  { name: "orders_find_idempotency_record", title: "idempotency lookup: the record, or the order it named once retention purged it (src/orders/infra/order-statements.ts)", bind: {} },
  { name: "customers_find_by_id", title: "GetCustomer (src/customers/infra/customer-repository.ts)", bind: { id: "customerId" } },
  {
    name: "inventory_reserve_hold",
    title: "ReserveStock: the reservation, the guarded holds, StockLow events, its lines (src/inventory/infra/reservation-statements.ts)",
    bind: { id: "reservationId", traceparent: NULL },
  },
  {
    name: "orders_insert_order",
    title: "the order: idempotency record, order (its number from the sequence), lines, history, outbox, timeline (order-statements.ts)",
    bind: {
      id: "oid", status: "pending", reservationState: "pending", version: "one", createTime: "now", updateTime: "now", eventTime: "now",
      carrier: NULL, trackingNumber: NULL, deleteTime: NULL, traceparent: NULL, customerNote: "empty",
      eventVersion: "one", eventType: "createdType", eventPayload: "createdPayload",
      timelineVersion: "one", timelineType: "createdTimeline", timelineSummary: "createdSummary", timelineReason: "empty", timelineActor: "empty",
      timelineStaffOnly: "no", timelineTime: "now", ...TIMELINE_NULLS,
    },
  },
  { name: "inventory_reserve_sell", title: "CommitReservation: PENDING and live → COMMITTED, its stock sold (reservation-statements.ts; a group of one)", bind: {} },
  {
    name: "orders_apply_if_unchanged",
    title: "the confirm: CONFIRMED + reservation COMMITTED + history + outbox + timeline, if still version 1 (order-statements.ts)",
    bind: {
      id: "oid", status: "confirmed", reservationState: "committed", version: "two", expectedVersion: "one", updateTime: "now", history: "soldHistory",
      eventVersion: "two", eventType: "changedType", eventPayload: "soldPayload", traceparent: NULL, eventTime: "now",
      timelineVersion: "two", timelineType: "changedTimeline", timelineSummary: "soldSummary", timelineReason: "soldReason", timelineActor: "empty",
      timelineStaffOnly: "no", timelineTime: "now", ...TIMELINE_NULLS,
    },
  },
];

const SOLD_REASON = "stock sold";
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
/** An order's event payload as the service writes it (protobuf JSON of the order; the number is set by the statement). */
const payload = (version: number, status: string, history: string) => `json_build_object('order', json_build_object(
    'orderId', oid, 'customerId', cid, 'version', ${version}, 'status', '${status}', 'requestId', rid,
    'lines', json_build_array(
      json_build_object('productId', pid1, 'quantity', :q1::int, 'unitPrice', json_build_object('currency', 'USD', 'amountMinor', '1000'),
                        'lineTotal', json_build_object('currency', 'USD', 'amountMinor', (1000 * :q1::int)::text)),
      json_build_object('productId', pid2, 'quantity', :q2::int, 'unitPrice', json_build_object('currency', 'USD', 'amountMinor', '1000'),
                        'lineTotal', json_build_object('currency', 'USD', 'amountMinor', (1000 * :q2::int)::text))),
    'total', json_build_object('currency', 'USD', 'amountMinor', (1000 * (:q1::int + :q2::int))::text),
    'shippingAddress', json_build_object('recipientName', 'Bench Customer', 'line1', '1 Bench Street', 'city', 'Springfield',
                                         'postalCode', '12345', 'countryCode', 'US'),
    'history', ${history},
    'createTime', now(), 'updateTime', now()))::text`;
const historyEntry = (from: string | null, to: string, reason: string) =>
  `json_build_object('from_status', ${from === null ? "null" : lit(from)}, 'to_status', '${to}', 'reason', ${lit(reason)}, 'actor', '', 'change_time', now())`;

/**
 * The variables, as `name: SQL expression` over the drawn ids (oid, rid, cid,
 * pid1, pid2) and the \set draws (q1, q2). Ids follow bench/lib/ids.ts.
 */
const VALUES: Readonly<Record<string, string>> = {
  oid: "oid",
  orderId: "oid",
  requestId: "rid",
  customerId: "cid",
  reservationId: "'order-' || oid",
  owners: `'{"' || :owner || '"}'`,
  ids: `'{"order-' || oid || '"}'`,
  owner: ":owner",
  productIds: "'{' || pid1 || ',' || pid2 || '}'",
  quantities: "'{' || :q1::int || ',' || :q2::int || '}'",
  now: "now()",
  expiresAt: "now() + interval '15 minutes'",
  threshold: "'10'",
  payloadHash: "md5(rid) || md5(oid)",
  pending: "'PENDING'",
  confirmed: "'CONFIRMED'",
  committed: "'COMMITTED'",
  one: "1",
  two: "2",
  no: "false",
  empty: "''",
  currency: "'USD'",
  totalMinor: "(1000 * (:q1::int + :q2::int))::text",
  shippingAddress: `'{"recipientName":"Bench Customer","line1":"1 Bench Street","line2":"","city":"Springfield","region":"","postalCode":"12345","countryCode":"US"}'`,
  lines: `json_build_array(
    json_build_object('line_no', 1, 'product_id', pid1, 'variant_id', '', 'quantity', :q1::int, 'currency', 'USD',
                      'unit_price_minor', '1000', 'line_total_minor', (1000 * :q1::int)::text),
    json_build_object('line_no', 2, 'product_id', pid2, 'variant_id', '', 'quantity', :q2::int, 'currency', 'USD',
                      'unit_price_minor', '1000', 'line_total_minor', (1000 * :q2::int)::text))::text`,
  history: `json_build_array(${historyEntry(null, "PENDING", "")})::text`,
  soldHistory: `json_build_array(${historyEntry("PENDING", "CONFIRMED", SOLD_REASON)})::text`,
  createdType: lit("orders.v1.OrderCreated"),
  changedType: lit("orders.v1.OrderStatusChanged"),
  createdPayload: payload(1, "PENDING", `json_build_array(${historyEntry(null, "PENDING", "")})`),
  soldPayload: payload(2, "CONFIRMED", `json_build_array(${historyEntry(null, "PENDING", "")}, ${historyEntry("PENDING", "CONFIRMED", SOLD_REASON)})`),
  createdTimeline: lit(ORDER_EVENT_TYPES.created),
  changedTimeline: lit(ORDER_EVENT_TYPES.statusChanged),
  createdSummary: lit("Created as PENDING"),
  soldSummary: lit("PENDING → CONFIRMED"),
  soldReason: lit(SOLD_REASON),
};

const HEADER = `-- GENERATED by bench/pgbench/generate.ts from the service's own prepared statements: do not edit.
-- The SQL one CreateOrder runs (two items), statement for statement, as the service issues it, each on
-- its own (no explicit transaction; the all-or-nothing steps are single statements with data-modifying
-- CTEs). One pgbench transaction = one order, so the rate is the database's ceiling for CreateOrder.
-- Variables: -D products=N -D customers=M -D owner=service:orders (the reservations' owner). Run with
-- -M prepared (the service prepares these statements too). The first select only draws this order's
-- values (the service computes them in JavaScript); \`$n\` of each statement is a variable here, or null
-- where a CreateOrder passes null.
\\set c random(1, :customers)
\\set pa random(1, :products)
\\set pb 1 + (:pa + random(0, :products - 2)) % :products
\\set p1 least(:pa, :pb)
\\set p2 greatest(:pa, :pb)
\\set q1 random(1, 3)
\\set q2 random(1, 3)
`;

/** The statements, prepared on a client that never connects (preparing only renders them). */
function prepareAll(): void {
  const client = postgres("postgres://pgbench-script@127.0.0.1:1/unused", { max: 1, connect_timeout: 1 });
  const db = drizzle(client) as unknown as Db;
  createOrderStatements(db);
  createReservationStatements(db, true);
  createCustomerRepository(db);
}

export function renderCreateOrderScript(): string {
  prepareAll();
  const used = new Set<string>();
  const statements = CREATE_ORDER_STATEMENTS.map((s, i) => {
    const r = renderedStatement(s.name);
    if (!r) throw new Error(`no statement named ${s.name} was prepared`);
    const text = r.text.trim().replace(/\$(\d+)/g, (_, n: string) => {
      const placeholder = r.params[Number(n) - 1]!;
      const bound = placeholder in s.bind ? s.bind[placeholder]! : placeholder;
      if (bound === NULL) return "null";
      if (!(bound in VALUES)) throw new Error(`${s.name}: placeholder ${placeholder} has no variable (add it to VALUES or bind it)`);
      used.add(bound);
      return `:${bound}`;
    });
    return `-- ${i + 1}. ${s.title}\n${text};\n`;
  });
  const unused = Object.keys(VALUES).filter((v) => !used.has(v) && v !== "oid");
  if (unused.length > 0) throw new Error(`variables no statement uses: ${unused.join(", ")}`);
  const draw = `select ${[...used].sort().map((v) => `${VALUES[v]} as "${v}"`).join(",\n       ")}
from (select gen_random_uuid()::text as oid, md5(random()::text) as rid,
             ('20000000-0000-4000-8000-' || lpad(:c::text, 12, '0')) as cid,
             ('10000000-0000-4000-8000-' || lpad(:p1::text, 12, '0')) as pid1,
             ('10000000-0000-4000-8000-' || lpad(:p2::text, 12, '0')) as pid2) ids \\gset\n`;
  return `${HEADER}${draw}${statements.join("")}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const script = renderCreateOrderScript();
  if (process.argv.includes("--check")) {
    const stale = readFileSync(SCRIPT_PATH, "utf8") !== script;
    if (stale) console.error(`${SCRIPT_PATH} is stale: run npx tsx bench/pgbench/generate.ts`);
    process.exit(stale ? 1 : 0);
  }
  writeFileSync(SCRIPT_PATH, script);
  console.log(`wrote ${SCRIPT_PATH}`);
}
