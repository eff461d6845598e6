/**
 * Set-based seeding straight into the service's tables (no RPCs): products
 * with ample stock, customers, and orders with their lines, history,
 * timeline entry, idempotency records, (published) outbox events and committed reservations
 * (owned, as the service's are, by the order module: "service:orders"), all
 * from generate_series. Orders vary as seeded.ts says (status, payment,
 * fulfilment with a parcel for shipped ones, tags), so searches find
 * realistic shares of them. Orders are inserted in batches so 1M orders stay
 * within a few minutes and each statement's memory stays bounded.
 *
 * Seeding only inserts, and inserts fire no trigger: the `orders_changed`
 * notification (migrations/0001_order_change_notify.sql) is sent for
 * version-bumping updates and deletes only, so it costs the seed nothing.
 */
import { principalLabel } from "../../src/kernel/principal.js";
import { ORDERS_SERVICE } from "../../src/platform/auth/setup.js";
import { CUSTOMER_PREFIX, ORDER_PREFIX, PRODUCT_PREFIX, SHIPMENT_PREFIX, sqlId } from "./ids.js";
import { PAYMENT_BY_I_MOD_8, STATUS_BY_I_MOD_10, TAG_EVERY } from "./seeded.js";

export type Exec = (sql: string) => Promise<void>;

/** Who owns the orders' stock reservations (inventory.reservations.owner); pgbench's script uses it too. */
export const RESERVATION_OWNER = principalLabel(ORDERS_SERVICE);

/** Customer i is VIP when i is a multiple of this (the overload scenario's VIP callers); every other one is STANDARD. */
export const VIP_EVERY = 10;

/** Stock of every seeded product: enough that no benchmark ever runs out. */
export const SEED_STOCK = 1_000_000_000;

export async function seedCatalog(exec: Exec, products: number, customers: number): Promise<void> {
  await exec(`
    insert into inventory.products (id, sku, name, description, unit_price_minor, currency, stock_on_hand, reserved, create_time, update_time)
    select ${sqlId(PRODUCT_PREFIX, "i")}, 'BENCH-' || lpad(i::text, 8, '0'), 'Bench product ' || i, 'seeded by bench',
           100 + (i * 37) % 9900, 'USD', ${SEED_STOCK}, 0, now(), now()
    from generate_series(1, ${products}) i`);
  await exec(`
    insert into customers.customers (id, email, display_name, tier, status, version, create_time, update_time)
    select ${sqlId(CUSTOMER_PREFIX, "i")}, 'bench' || i || '@example.com', 'Bench customer ' || i,
           case when i % ${VIP_EVERY} = 0 then 'VIP' else 'STANDARD' end, 'ACTIVE', 1, now(), now()
    from generate_series(1, ${customers}) i`);
}

export interface OrderBatch {
  /** First and last order index (inclusive). */
  readonly from: number;
  readonly to: number;
  readonly products: number;
  /** Orders of this batch go to customers 1..ownerCount. */
  readonly ownerCount: number;
}

const sqlArray = (values: readonly string[]) => `array[${values.map((v) => `'${v}'`).join(", ")}]`;
/** A timestamptz expression as the service writes times into jsonb (Date.toISOString). */
const isoTime = (t: string) => `to_char((${t}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Order i: customer 1 + (i - 1) % ownerCount, 1 + i % 3 lines; line k is
 * product 1 + (i * 7919 + k * 104729) % products, quantity 1 + (i + k) % 3.
 * Status, fulfilment, payment and tags as seeded.ts says: a shipped or
 * delivered order has one parcel of every unit (as UpdateOrderStatus's
 * one-shipment shortcut makes) and its carrier; a payment's amounts are the
 * whole total (half of it refunded when PARTIALLY_REFUNDED).
 */
function orderSql(b: OrderBatch): string[] {
  const series = `generate_series(${b.from}, ${b.to}) i`;
  const lineSeries = `${series} cross join lateral generate_series(1, 1 + i % 3) k`;
  const pid = `(1 + (i::bigint * 7919 + k * 104729) % ${b.products})`;
  const qty = `(1 + (i + k) % 3)`;
  const price = `(100 + (${pid} * 37) % 9900)`;
  const oid = sqlId(ORDER_PREFIX, "i");
  const cid = sqlId(CUSTOMER_PREFIX, `1 + (i - 1) % ${b.ownerCount}`);
  const at = `(timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second')`;
  const address = `'{"recipientName":"Bench Customer","line1":"1 Bench Street","line2":"","city":"Springfield","region":"","postalCode":"12345","countryCode":"US"}'::jsonb`;
  const shipped = `ful in ('SHIPPED', 'DELIVERED')`;
  const parcel = `jsonb_build_array(jsonb_build_object(
      'id', ${sqlId(SHIPMENT_PREFIX, "i")}, 'requestId', '', 'status', ful,
      'lines', (select jsonb_agg(jsonb_build_object('lineNo', k, 'quantity', ${qty}) order by k) from generate_series(1, 1 + i % 3) k),
      'carrier', 'UPS', 'trackingNumber', '1Z' || i, 'createTime', ${isoTime(at)}, 'shipTime', ${isoTime(`${at} + interval '1 day'`)},
      'deliverTime', case when ful = 'DELIVERED' then ${isoTime(`${at} + interval '3 days'`)} end))`;
  const tags = Object.entries(TAG_EVERY)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([tag, every]) => `case when i % ${every} = 0 then '${tag}' end`);
  return [
    `insert into orders.orders (id, customer_id, request_id, status, currency, total_minor, shipping_address,
        reservation_id, reservation_state, version, create_time, update_time,
        payment_status, authorized_minor, captured_minor, refunded_minor,
        fulfilment_status, shipments, carrier, tracking_number, tags)
     select ${oid}, ${cid}, 'seed-' || i, st, 'USD', total, ${address},
            'order-' || ${oid}, 'COMMITTED', 1, ${at}, ${at},
            pay, case when pay = 'PENDING' then 0 else total end,
            case when pay in ('PENDING', 'AUTHORIZED') then 0 else total end,
            case pay when 'PARTIALLY_REFUNDED' then total / 2 when 'REFUNDED' then total else 0 end,
            ful, case when ${shipped} then ${parcel} else '[]'::jsonb end,
            case when ${shipped} then 'UPS' end, case when ${shipped} then '1Z' || i end,
            array_remove(array[${tags.join(", ")}]::text[], null)
     from (select i, (${sqlArray(STATUS_BY_I_MOD_10.map(([s]) => s))})[1 + i % 10] as st,
                  (${sqlArray(STATUS_BY_I_MOD_10.map(([, f]) => f))})[1 + i % 10] as ful,
                  (${sqlArray(PAYMENT_BY_I_MOD_8)})[1 + i % 8] as pay,
                  (select sum(${qty} * ${price}) from generate_series(1, 1 + i % 3) k) as total
           from ${series}) o`,
    `insert into orders.order_lines (order_id, line_no, product_id, variant_id, quantity, currency, unit_price_minor, line_total_minor)
     select ${oid}, k, ${sqlId(PRODUCT_PREFIX, pid)}, '', ${qty}, 'USD', ${price}, ${qty} * ${price}
     from ${lineSeries}`,
    `insert into orders.order_history (order_id, from_status, to_status, reason, actor, change_time)
     select ${oid}, null, 'CONFIRMED', '', '', ${at} from ${series}`,
    `insert into orders.order_timeline (order_id, version, type, summary, actor, change_time)
     select ${oid}, 1, 'orders.v1.OrderCreated', 'Created as CONFIRMED', '', ${at} from ${series}`,
    `insert into orders.idempotency_keys (customer_id, request_id, payload_hash, order_id, create_time)
     select ${cid}, 'seed-' || i, 'seed', ${oid}, ${at} from ${series}`,
    `insert into orders.outbox (aggregate_id, event_type, payload, create_time, publish_time)
     select ${oid}, 'orders.v1.OrderCreated', jsonb_build_object('orderId', ${oid}), ${at}, ${at} from ${series}`,
    `insert into inventory.reservations (owner, id, status, expires_at, create_time, update_time)
     select '${RESERVATION_OWNER}', 'order-' || ${oid}, 'COMMITTED', ${at} + interval '15 minutes', ${at}, ${at} from ${series}`,
    `insert into inventory.reservation_lines (owner, reservation_id, product_id, quantity, unit_price_minor, currency)
     select '${RESERVATION_OWNER}', 'order-' || ${oid}, ${sqlId(PRODUCT_PREFIX, pid)}, ${qty}, ${price}, 'USD'
     from ${lineSeries} on conflict do nothing`,
  ];
}

const BATCH = 100_000;

/** Inserts orders from..to in batches of 100k; `progress` after each batch. */
export async function seedOrders(
  exec: Exec,
  b: OrderBatch,
  progress: (done: number) => void = () => {},
): Promise<void> {
  for (let from = b.from; from <= b.to; from += BATCH) {
    const to = Math.min(b.to, from + BATCH - 1);
    for (const stmt of orderSql({ ...b, from, to })) await exec(stmt);
    progress(to);
  }
}
