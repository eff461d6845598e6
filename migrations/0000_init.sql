CREATE SCHEMA "customers";
--> statement-breakpoint
CREATE SCHEMA "inventory";
--> statement-breakpoint
CREATE SCHEMA "orders";
--> statement-breakpoint
CREATE TABLE "customers"."customers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"display_name" text NOT NULL,
	"tier" text DEFAULT 'STANDARD' NOT NULL,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"create_time" timestamp with time zone NOT NULL,
	"update_time" timestamp with time zone NOT NULL,
	CONSTRAINT "customers_tier_check" CHECK ("customers"."customers"."tier" in ('STANDARD', 'VIP')),
	CONSTRAINT "customers_status_check" CHECK ("customers"."customers"."status" in ('ACTIVE', 'SUSPENDED')),
	CONSTRAINT "customers_version_check" CHECK ("customers"."customers"."version" >= 1)
);
--> statement-breakpoint
CREATE TABLE "inventory"."products" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sku" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"unit_price_minor" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"stock_on_hand" bigint DEFAULT 0 NOT NULL,
	"reserved" bigint DEFAULT 0 NOT NULL,
	"create_time" timestamp with time zone NOT NULL,
	"update_time" timestamp with time zone NOT NULL,
	CONSTRAINT "products_stock_on_hand_check" CHECK ("inventory"."products"."stock_on_hand" >= 0),
	CONSTRAINT "products_reserved_check" CHECK ("inventory"."products"."reserved" >= 0),
	CONSTRAINT "products_reserved_le_stock_check" CHECK ("inventory"."products"."reserved" <= "inventory"."products"."stock_on_hand"),
	CONSTRAINT "products_unit_price_check" CHECK ("inventory"."products"."unit_price_minor" >= 0),
	CONSTRAINT "products_currency_check" CHECK ("inventory"."products"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "inventory"."reservation_lines" (
	"reservation_id" text NOT NULL,
	"product_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	"unit_price_minor" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	CONSTRAINT "reservation_lines_pkey" PRIMARY KEY("reservation_id","product_id"),
	CONSTRAINT "reservation_lines_quantity_check" CHECK ("inventory"."reservation_lines"."quantity" > 0),
	CONSTRAINT "reservation_lines_unit_price_check" CHECK ("inventory"."reservation_lines"."unit_price_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "inventory"."reservations" (
	"id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"create_time" timestamp with time zone NOT NULL,
	"update_time" timestamp with time zone NOT NULL,
	CONSTRAINT "reservations_status_check" CHECK ("inventory"."reservations"."status" in ('PENDING', 'COMMITTED', 'RELEASED', 'EXPIRED'))
);
--> statement-breakpoint
CREATE TABLE "orders"."idempotency_keys" (
	"customer_id" uuid NOT NULL,
	"request_id" text NOT NULL,
	"payload_hash" text NOT NULL,
	"order_id" uuid NOT NULL,
	"create_time" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_customer_id_request_id_pk" PRIMARY KEY("customer_id","request_id")
);
--> statement-breakpoint
CREATE TABLE "orders"."order_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"change_time" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders"."order_lines" (
	"order_id" uuid NOT NULL,
	"line_no" integer NOT NULL,
	"product_id" uuid NOT NULL,
	"variant_id" text NOT NULL,
	"quantity" integer NOT NULL,
	"currency" text NOT NULL,
	"unit_price_minor" bigint NOT NULL,
	"line_total_minor" bigint NOT NULL,
	CONSTRAINT "order_lines_order_id_line_no_pk" PRIMARY KEY("order_id","line_no")
);
--> statement-breakpoint
CREATE TABLE "orders"."orders" (
	"id" uuid PRIMARY KEY NOT NULL,
	"customer_id" uuid NOT NULL,
	"request_id" text NOT NULL,
	"status" text NOT NULL,
	"currency" text NOT NULL,
	"total_minor" bigint NOT NULL,
	"shipping_address" jsonb,
	"carrier" text,
	"tracking_number" text,
	"reservation_id" text NOT NULL,
	"reservation_state" text NOT NULL,
	"version" integer NOT NULL,
	"create_time" timestamp (3) with time zone NOT NULL,
	"update_time" timestamp (3) with time zone NOT NULL,
	"delete_time" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "orders"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"aggregate_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"create_time" timestamp (3) with time zone NOT NULL,
	"publish_time" timestamp (3) with time zone
);
--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" ADD CONSTRAINT "reservation_lines_reservation_id_reservations_id_fk" FOREIGN KEY ("reservation_id") REFERENCES "inventory"."reservations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" ADD CONSTRAINT "reservation_lines_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "inventory"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders"."order_history" ADD CONSTRAINT "order_history_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders"."order_lines" ADD CONSTRAINT "order_lines_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "customers_email_lower_key" ON "customers"."customers" USING btree (lower("email"));--> statement-breakpoint
CREATE INDEX "customers_create_time_id_idx" ON "customers"."customers" USING btree ("create_time" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE UNIQUE INDEX "products_sku_key" ON "inventory"."products" USING btree ("sku" collate "C");--> statement-breakpoint
CREATE INDEX "reservation_lines_product_id_idx" ON "inventory"."reservation_lines" USING btree ("product_id");--> statement-breakpoint
CREATE INDEX "reservations_pending_expires_at_idx" ON "inventory"."reservations" USING btree ("expires_at") WHERE status = 'PENDING';--> statement-breakpoint
CREATE INDEX "order_history_order_idx" ON "orders"."order_history" USING btree ("order_id","id");--> statement-breakpoint
CREATE INDEX "orders_customer_page_idx" ON "orders"."orders" USING btree ("customer_id","create_time","id") WHERE "orders"."orders"."delete_time" is null;--> statement-breakpoint
CREATE INDEX "orders_page_idx" ON "orders"."orders" USING btree ("create_time","id") WHERE "orders"."orders"."delete_time" is null;--> statement-breakpoint
CREATE INDEX "orders_status_page_idx" ON "orders"."orders" USING btree ("status","create_time","id") WHERE "orders"."orders"."delete_time" is null;--> statement-breakpoint
CREATE INDEX "orders_unsettled_idx" ON "orders"."orders" USING btree ("update_time") WHERE "orders"."orders"."reservation_state" in ('PENDING', 'RELEASE_PENDING');--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "orders"."outbox" USING btree ("id") WHERE "orders"."outbox"."publish_time" is null;