-- An order is stored PENDING and confirmed (PENDING -> CONFIRMED, a version
-- bump) once its stock is sold, inside the same CreateOrder call. Notifying
-- that confirm would give every CreateOrder a NOTIFY it did not have before
-- (see 0001: notifying transactions serialise their commits, about -40% on
-- the CreateOrder pgbench transaction). Nothing needs it: the order cache
-- never holds a PENDING order (src/orders/infra/order-cache.ts), so there is
-- nothing to evict in other processes; watchers in the writing process are
-- woken by the repository's in-process signal, watchers elsewhere see the
-- confirm at their next poll (WATCH_POLL_MS). Every other visible change
-- still notifies, as before.
drop trigger if exists orders_notify_changed on orders.orders;
--> statement-breakpoint
create trigger orders_notify_changed
  after update on orders.orders
  for each row
  when (
    (old.version is distinct from new.version and not (old.status = 'PENDING' and new.status = 'CONFIRMED'))
    or old.delete_time is distinct from new.delete_time
  )
  execute function orders.notify_order_changed();
