-- Retention (README "Retention") deletes rows past their window in bounded
-- batches; each batch finds its rows through one of these indexes instead of
-- scanning the table. Partial on reservations: only ended ones (RELEASED,
-- EXPIRED) are ever purged, and a reservation enters the index only when it
-- ends. IF NOT EXISTS: on a large table an operator may build them first with
-- CREATE INDEX CONCURRENTLY (same names), and this step then does nothing.
CREATE INDEX IF NOT EXISTS "reservations_ended_update_time_idx" ON "inventory"."reservations" USING btree ("update_time") WHERE status in ('RELEASED', 'EXPIRED');--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "idempotency_keys_create_time_idx" ON "orders"."idempotency_keys" USING btree ("create_time");
