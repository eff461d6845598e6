-- Issue 14: customer note, staff notes, tags and metadata on the order; the order's timeline
-- (orders.order_timeline: one entry per change); the indexes SearchOrders uses (payment and
-- fulfilment status pages, tags by GIN; number searches use orders_number_key).
-- The timeline starts with the orders' earlier status changes, copied from order_history with
-- no version (hand-written, at the end).
CREATE TABLE "orders"."order_timeline" (
	"order_id" uuid NOT NULL,
	"id" bigserial NOT NULL,
	"version" integer,
	"type" text NOT NULL,
	"summary" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"actor" text NOT NULL,
	"subject_id" text,
	"currency" text,
	"amount_minor" bigint,
	"staff_only" boolean DEFAULT false NOT NULL,
	"change_time" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "order_timeline_order_id_id_pk" PRIMARY KEY("order_id","id")
);
--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "customer_note" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "staff_notes" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "tags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "metadata" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."order_timeline" ADD CONSTRAINT "order_timeline_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "orders_payment_status_page_idx" ON "orders"."orders" USING btree ("payment_status","create_time","id") WHERE "orders"."orders"."delete_time" is null;--> statement-breakpoint
CREATE INDEX "orders_fulfilment_status_page_idx" ON "orders"."orders" USING btree ("fulfilment_status","create_time","id") WHERE "orders"."orders"."delete_time" is null;--> statement-breakpoint
CREATE INDEX "orders_tags_idx" ON "orders"."orders" USING gin ("tags") WHERE "orders"."orders"."delete_time" is null;--> statement-breakpoint
INSERT INTO "orders"."order_timeline" ("order_id", "version", "type", "summary", "reason", "actor", "change_time")
SELECT h."order_id", NULL,
  CASE WHEN h."from_status" IS NULL THEN 'orders.v1.OrderCreated'
       WHEN h."to_status" = 'CANCELLED' THEN 'orders.v1.OrderCancelled'
       ELSE 'orders.v1.OrderStatusChanged' END,
  CASE WHEN h."from_status" IS NULL THEN 'Created as ' || h."to_status"
       ELSE 'Status ' || h."from_status" || ' → ' || h."to_status" END,
  h."reason", h."actor", h."change_time"
FROM "orders"."order_history" h
ORDER BY h."id";
