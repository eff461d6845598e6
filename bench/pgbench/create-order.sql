-- The SQL one CreateOrder runs (two items), statement for statement, as the
-- service issues it (src/orders/app/create-order.ts → order-repository.ts,
-- src/inventory/infra/reservation-repository.ts, stock-statements.ts,
-- src/customers). One pgbench transaction = one order, so the rate is the
-- database's ceiling for CreateOrder. Variables: -D products=N -D customers=M.
-- Ids follow bench/lib/ids.ts. Run with -M prepared (the service's driver prepares too).
\set c random(1, :customers)
\set pa random(1, :products)
\set pb 1 + (:pa + random(0, :products - 2)) % :products
\set p1 least(:pa, :pb)
\set p2 greatest(:pa, :pb)
\set q1 random(1, 3)
\set q2 random(1, 3)
select gen_random_uuid()::text as oid, md5(random()::text) as rid,
       ('20000000-0000-4000-8000-' || lpad(:c::text, 12, '0')) as cid,
       ('10000000-0000-4000-8000-' || lpad(:p1::text, 12, '0')) as pid1,
       ('10000000-0000-4000-8000-' || lpad(:p2::text, 12, '0')) as pid2 \gset
-- 1. idempotency lookup (outside any transaction)
select order_id, payload_hash from orders.idempotency_keys where customer_id = :cid::uuid and request_id = :rid;
-- 2. GetCustomer
select id, email, display_name, tier, status, version, create_time, update_time from customers.customers where id = :cid::uuid limit 1;
-- 3. ReserveStock: reservation row first, then products locked in id order, guarded holds, lines
begin;
insert into inventory.reservations (id, status, expires_at, create_time, update_time)
  values ('order-' || :oid, 'PENDING', now() + interval '15 minutes', now(), now()) on conflict (id) do nothing returning id;
select * from inventory.products where id in (:pid1::uuid, :pid2::uuid) order by id for no key update;
update inventory.products set reserved = reserved + :q1::bigint, update_time = greatest(update_time, now())
  where id = :pid1::uuid and stock_on_hand - reserved >= :q1::bigint returning id;
update inventory.products set reserved = reserved + :q2::bigint, update_time = greatest(update_time, now())
  where id = :pid2::uuid and stock_on_hand - reserved >= :q2::bigint returning id;
insert into inventory.reservation_lines (reservation_id, product_id, quantity, unit_price_minor, currency)
  values ('order-' || :oid, :pid1::uuid, :q1, 1000, 'USD'), ('order-' || :oid, :pid2::uuid, :q2, 1000, 'USD');
commit;
-- 4. the order transaction: idempotency record first, order, lines, history, outbox
begin;
insert into orders.idempotency_keys (customer_id, request_id, payload_hash, order_id, create_time)
  values (:cid::uuid, :rid, 'pgbench-payload-hash-0000000000000000000000', :oid::uuid, now()) on conflict do nothing returning order_id;
insert into orders.orders (id, customer_id, request_id, status, currency, total_minor, shipping_address, carrier, tracking_number,
    reservation_id, reservation_state, version, create_time, update_time, delete_time)
  values (:oid::uuid, :cid::uuid, :rid, 'CONFIRMED', 'USD', 1000 * (:q1::int + :q2::int),
    '{"recipientName":"Bench Customer","line1":"1 Bench Street","line2":"","city":"Springfield","region":"","postalCode":"12345","countryCode":"US"}',
    null, null, 'order-' || :oid, 'PENDING', 1, now(), now(), null);
insert into orders.order_lines (order_id, line_no, product_id, variant_id, quantity, currency, unit_price_minor, line_total_minor)
  values (:oid::uuid, 1, :pid1::uuid, '', :q1, 'USD', 1000, 1000 * :q1::int), (:oid::uuid, 2, :pid2::uuid, '', :q2, 'USD', 1000, 1000 * :q2::int);
insert into orders.order_history (order_id, from_status, to_status, reason, actor, change_time)
  values (:oid::uuid, null, 'CONFIRMED', '', '', now());
insert into orders.outbox (aggregate_id, event_type, payload, create_time)
  values (:oid::uuid, 'orders.v1.OrderCreated', '{"orderId":"x","status":"CONFIRMED","version":1}', now());
commit;
-- 5. CommitReservation: lock the reservation, read its lines, move it, sell the stock in product-id order
begin;
select * from inventory.reservations where id = 'order-' || :oid for update;
select * from inventory.reservation_lines where reservation_id = 'order-' || :oid order by product_id;
update inventory.reservations set status = 'COMMITTED', update_time = now()
  where id = 'order-' || :oid and status = 'PENDING' returning *;
update inventory.products set stock_on_hand = stock_on_hand - :q1::bigint, reserved = reserved - :q1::bigint, update_time = greatest(update_time, now())
  where id = :pid1::uuid and reserved >= :q1::bigint returning id;
update inventory.products set stock_on_hand = stock_on_hand - :q2::bigint, reserved = reserved - :q2::bigint, update_time = greatest(update_time, now())
  where id = :pid2::uuid and reserved >= :q2::bigint returning id;
commit;
-- 6. the order's reservation state
update orders.orders set reservation_state = 'COMMITTED'
  where id = :oid::uuid and reservation_state in ('PENDING') returning id;
