-- Events out (README "Events"): what the outbox rows lack for the delivery
-- contract (event id, aggregate type, the order's version, trace context) and
-- the relay's bookkeeping (attempts, last error, dead-letter time), and
-- inventory's own outbox. Rows written before the contract have no version and
-- the old payload shape: they are put with the dead letters (never published,
-- kept for an operator to see) rather than published in a shape no consumer
-- expects.
CREATE TABLE "inventory"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"aggregate_type" text NOT NULL,
	"aggregate_id" text NOT NULL,
	"version" integer,
	"event_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"traceparent" text,
	"create_time" timestamp (3) with time zone NOT NULL,
	"publish_time" timestamp (3) with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"dead_time" timestamp (3) with time zone
);
--> statement-breakpoint
DROP INDEX "orders"."outbox_unpublished_idx";--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "event_id" uuid DEFAULT gen_random_uuid() NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "aggregate_type" text DEFAULT 'order' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "version" integer;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "traceparent" text;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "orders"."outbox" ADD COLUMN "dead_time" timestamp (3) with time zone;--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "inventory"."outbox" USING btree ("id") WHERE "inventory"."outbox"."publish_time" is null and "inventory"."outbox"."dead_time" is null;--> statement-breakpoint
CREATE INDEX "outbox_published_idx" ON "inventory"."outbox" USING btree ("publish_time") WHERE "inventory"."outbox"."publish_time" is not null;--> statement-breakpoint
CREATE INDEX "outbox_dead_idx" ON "inventory"."outbox" USING btree ("dead_time") WHERE "inventory"."outbox"."dead_time" is not null;--> statement-breakpoint
CREATE INDEX "outbox_aggregate_idx" ON "orders"."outbox" USING btree ("aggregate_id","version");--> statement-breakpoint
CREATE INDEX "outbox_published_idx" ON "orders"."outbox" USING btree ("publish_time") WHERE "orders"."outbox"."publish_time" is not null;--> statement-breakpoint
CREATE INDEX "outbox_dead_idx" ON "orders"."outbox" USING btree ("dead_time") WHERE "orders"."outbox"."dead_time" is not null;--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "orders"."outbox" USING btree ("id") WHERE "orders"."outbox"."publish_time" is null and "orders"."outbox"."dead_time" is null;--> statement-breakpoint
UPDATE "orders"."outbox" SET "dead_time" = now(), "last_error" = 'written before the events contract (migration 0005): not published' WHERE "publish_time" IS NULL AND "version" IS NULL;