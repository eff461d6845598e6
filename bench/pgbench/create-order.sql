-- The SQL one CreateOrder runs (two items), statement for statement, as the
-- service issues it: six statements, each on its own (no explicit transaction;
-- the all-or-nothing steps are single statements with data-modifying CTEs).
-- The order is stored PENDING (4) and confirmed once its stock is sold (6).
--   src/orders/infra/order-statements.ts        1, 4, 6
--   src/customers/infra/customer-repository.ts  2
--   src/inventory/infra/reservation-statements.ts 3, 5
-- One pgbench transaction = one order, so the rate is the database's ceiling
-- for CreateOrder. Variables: -D products=N -D customers=M -D owner=service:orders (the
-- reservations' owner, the order module; a parameter as in the service: pgbench would take the
-- colon of a literal 'service:orders' for a variable). Ids follow bench/lib/ids.ts. Run with
-- -M prepared (the service prepares these statements too).
-- The first select only draws this order's values (the service computes them in JS).
\set c random(1, :customers)
\set pa random(1, :products)
\set pb 1 + (:pa + random(0, :products - 2)) % :products
\set p1 least(:pa, :pb)
\set p2 greatest(:pa, :pb)
\set q1 random(1, 3)
\set q2 random(1, 3)
select oid, md5(random()::text) as rid, cid, pid1, pid2,
       '{' || pid1 || ',' || pid2 || '}' as pids, '{' || :q1::int || ',' || :q2::int || '}' as qs,
       json_build_array(
         json_build_object('line_no', 1, 'product_id', pid1, 'variant_id', '', 'quantity', :q1::int, 'currency', 'USD',
                           'unit_price_minor', '1000', 'line_total_minor', (1000 * :q1::int)::text),
         json_build_object('line_no', 2, 'product_id', pid2, 'variant_id', '', 'quantity', :q2::int, 'currency', 'USD',
                           'unit_price_minor', '1000', 'line_total_minor', (1000 * :q2::int)::text))::text as lines,
       json_build_array(json_build_object('from_status', null, 'to_status', 'PENDING', 'reason', '', 'actor', '',
                                          'change_time', now()))::text as history,
       json_build_object('orderId', oid, 'customerId', cid, 'version', 1, 'status', 'PENDING',
                         'total', json_build_object('currency', 'USD', 'amountMinor', (1000 * (:q1::int + :q2::int))::text),
                         'shippingInfo', null,
                         'changes', json_build_array(json_build_object('from', null, 'to', 'PENDING', 'reason', '',
                                                                       'actor', '', 'at', now())))::text as payload,
       json_build_array(json_build_object('from_status', 'PENDING', 'to_status', 'CONFIRMED', 'reason', 'stock sold',
                                          'actor', '', 'change_time', now()))::text as sold,
       json_build_object('orderId', oid, 'customerId', cid, 'version', 2, 'status', 'CONFIRMED',
                         'total', json_build_object('currency', 'USD', 'amountMinor', (1000 * (:q1::int + :q2::int))::text),
                         'shippingInfo', null,
                         'changes', json_build_array(json_build_object('from', 'PENDING', 'to', 'CONFIRMED',
                                                                       'reason', 'stock sold', 'actor', '', 'at', now())))::text as soldpayload
from (select gen_random_uuid()::text as oid,
             ('20000000-0000-4000-8000-' || lpad(:c::text, 12, '0')) as cid,
             ('10000000-0000-4000-8000-' || lpad(:p1::text, 12, '0')) as pid1,
             ('10000000-0000-4000-8000-' || lpad(:p2::text, 12, '0')) as pid2) ids \gset
-- 1. idempotency lookup: the record, or the order it named once retention purged it
select order_id as "orderId", payload_hash as "payloadHash" from orders.idempotency_keys
where customer_id = :cid::uuid and request_id = :rid
union all
select o.id, null::text from orders.orders o
where o.id = :oid::uuid and o.customer_id = :cid::uuid and o.request_id = :rid
  and not exists (select from orders.idempotency_keys k
    where k.customer_id = :cid::uuid and k.request_id = :rid);
-- 2. GetCustomer
select "id", "email", "display_name", "tier", "status", "version", "create_time", "update_time"
from "customers"."customers" where "customers"."customers"."id" = :cid limit 1;
-- 3. ReserveStock: the reservation, the guarded holds (products locked in id order), the StockLow
--    event of a product whose available stock falls below the threshold (STOCK_LOW_THRESHOLD, 10), its lines
with req as (
  select * from unnest(:pids::uuid[], :qs::int[]) as r(product_id, quantity)
), created as (
  insert into inventory.reservations (owner, id, status, expires_at, create_time, update_time)
  values (:owner, 'order-' || :oid, 'PENDING', (now() + interval '15 minutes')::timestamptz, now()::timestamptz, now()::timestamptz)
  on conflict (owner, id) do nothing
  returning owner, id
), locked as materialized (
  select pr.id from inventory.products pr
  where pr.id = any(:pids::uuid[]) and exists (select from created)
  order by pr.id
  for no key update
), held as (
  update inventory.products pr
  set reserved = pr.reserved + r.quantity, update_time = greatest(pr.update_time, now()::timestamptz)
  from locked l join req r on r.product_id = l.id
  where pr.id = l.id and pr.stock_on_hand - pr.reserved >= r.quantity
  returning pr.id, pr.sku, pr.stock_on_hand, pr.reserved, r.quantity, pr.unit_price_minor, pr.currency
), low as (
  insert into inventory.outbox (aggregate_type, aggregate_id, event_type, payload, traceparent, create_time)
  select 'product', h.id::text, 'inventory.v1.StockLow',
    jsonb_build_object('productId', h.id::text, 'sku', h.sku, 'available', (h.stock_on_hand - h.reserved)::text,
      'stockOnHand', h.stock_on_hand::text, 'threshold', 10::bigint::text),
    null::text, now()::timestamptz
  from held h
  where h.stock_on_hand - h.reserved < 10::bigint and h.stock_on_hand - h.reserved + h.quantity >= 10::bigint
  returning 1
), lines as (
  insert into inventory.reservation_lines (owner, reservation_id, product_id, quantity, unit_price_minor, currency)
  select c.owner, c.id, r.product_id, r.quantity, h.unit_price_minor, h.currency
  from created c cross join req r left join held h on h.id = r.product_id
  returning product_id, quantity, unit_price_minor, currency
)
select product_id as "productId", quantity, unit_price_minor::text as "unitPriceMinor", currency,
  (select count(*) from low)::int as events
from lines order by product_id;
-- 4. the order: idempotency record first (it decides), order (its number from the sequence), lines, history, outbox
with claimed as (
  insert into orders.idempotency_keys (customer_id, request_id, payload_hash, order_id, create_time)
  values (:cid::uuid, :rid, 'pgbench-payload-hash-0000000000000000000000', :oid::uuid, now()::timestamptz)
  on conflict do nothing
  returning order_id
), created as (
  insert into orders.orders (id, customer_id, request_id, status, currency, total_minor, shipping_address,
    carrier, tracking_number, reservation_id, reservation_state, version, create_time, update_time, delete_time)
  select order_id, :cid::uuid, :rid, 'PENDING', 'USD', (1000 * (:q1::int + :q2::int))::text::bigint,
    '{"recipientName":"Bench Customer","line1":"1 Bench Street","line2":"","city":"Springfield","region":"","postalCode":"12345","countryCode":"US"}'::text::jsonb,
    null, null, 'order-' || :oid, 'PENDING',
    1::int, now()::timestamptz, now()::timestamptz, null::timestamptz
  from claimed
  returning id, number
), lines as (
  insert into orders.order_lines (order_id, line_no, product_id, variant_id, quantity, currency, unit_price_minor, line_total_minor)
  select c.id, l.line_no, l.product_id, l.variant_id, l.quantity, l.currency, l.unit_price_minor, l.line_total_minor
  from created c cross join jsonb_to_recordset(:lines::jsonb) as l(line_no int, product_id uuid, variant_id text,
    quantity int, currency text, unit_price_minor bigint, line_total_minor bigint)
), history as (
  insert into orders.order_history (order_id, from_status, to_status, reason, actor, change_time)
  select c.id, h.from_status, h.to_status, h.reason, h.actor, h.change_time
  from created c cross join rows from (jsonb_to_recordset(:history::jsonb) as (from_status text, to_status text,
    reason text, actor text, change_time timestamptz)) with ordinality as h(from_status, to_status, reason, actor, change_time, n)
  order by h.n
), event as (
  insert into orders.outbox (aggregate_id, event_type, payload, create_time)
  select c.id, 'orders.v1.OrderCreated', jsonb_set(:payload::jsonb, '{order,number}', to_jsonb(c.number::text)), now()::timestamptz from created c
)
select c.id as "orderId", c.number::text as "number" from created c;
-- 5. CommitReservation: PENDING and live → COMMITTED, its stock sold (products locked in id order)
with moved as (
  update inventory.reservations set status = 'COMMITTED', update_time = now()::timestamptz
  where owner = :owner and id = 'order-' || :oid and status = 'PENDING' and expires_at > now()::timestamptz
  returning id, expires_at, create_time
), lines as (
  select l.product_id, l.quantity, l.unit_price_minor, l.currency from inventory.reservation_lines l
  where l.owner = :owner and l.reservation_id = 'order-' || :oid and exists (select from moved)
), locked as materialized (
  select pr.id from inventory.products pr
  where pr.id in (select product_id from lines)
  order by pr.id
  for no key update
), sold as (
  update inventory.products pr
  set stock_on_hand = pr.stock_on_hand - l.quantity, reserved = pr.reserved - l.quantity,
      update_time = greatest(pr.update_time, now()::timestamptz)
  from locked k join lines l on l.product_id = k.id
  where pr.id = k.id
)
select l.product_id as "productId", l.quantity, l.unit_price_minor::text as "unitPriceMinor", l.currency,
  floor(extract(epoch from m.expires_at) * 1000)::float8 as "expireMs",
  floor(extract(epoch from m.create_time) * 1000)::float8 as "createMs"
from moved m cross join lines l order by l.product_id;
-- 6. the confirm (APPLY_IF_UNCHANGED): CONFIRMED + reservation COMMITTED + history "stock sold" +
--    outbox, only if the order is still version 1 (the PENDING -> CONFIRMED update does not NOTIFY:
--    migrations/0003_pending_confirm_quiet.sql)
with applied as (
  update orders.orders set status = 'CONFIRMED', reservation_state = 'COMMITTED',
    version = 2::int, update_time = now()::timestamptz
  where id = :oid::uuid and version = 1::int and delete_time is null
  returning id
), history as (
  insert into orders.order_history (order_id, from_status, to_status, reason, actor, change_time)
  select a.id, h.from_status, h.to_status, h.reason, h.actor, h.change_time
  from applied a cross join rows from (jsonb_to_recordset(:sold::jsonb) as (from_status text, to_status text,
    reason text, actor text, change_time timestamptz)) with ordinality as h(from_status, to_status, reason, actor, change_time, n)
  order by h.n
), event as (
  insert into orders.outbox (aggregate_id, event_type, payload, create_time)
  select a.id, 'orders.v1.OrderStatusChanged', :soldpayload::jsonb, now()::timestamptz from applied a
)
select id from applied;
