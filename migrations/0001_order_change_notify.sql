-- Cross-process change signal for the order read cache and WatchOrder: a
-- committed change of what an order shows sends its id on `orders_changed`.
-- NOTIFY is transactional: listeners get it after the commit, never for a
-- rolled-back change, and duplicates within one transaction fold into one.
--
-- Only updates that bump the version (every change a client can see moves
-- the etag) or set delete_time, and hard deletes, notify. Inserts do not
-- (nothing can be cached or watched for an id before it exists), nor do
-- reservation_state-only updates (not shown by GetOrder/WatchOrder). This is
-- deliberate: Postgres serialises the commits of all notifying transactions
-- (PreCommit_Notify takes a database-wide lock held through the commit),
-- which measured at about -40% on the CreateOrder pgbench transaction when
-- its insert and reservation update both notified.
create or replace function orders.notify_order_changed() returns trigger
language plpgsql as $$
begin
  perform pg_notify('orders_changed', (case when tg_op = 'DELETE' then old.id else new.id end)::text);
  return null;
end;
$$;
--> statement-breakpoint
create trigger orders_notify_changed
  after update on orders.orders
  for each row
  when (old.version is distinct from new.version or old.delete_time is distinct from new.delete_time)
  execute function orders.notify_order_changed();
--> statement-breakpoint
create trigger orders_notify_deleted
  after delete on orders.orders
  for each row execute function orders.notify_order_changed();
