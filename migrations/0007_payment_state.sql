-- Payment state (README "Payments"): the order's payment status and amounts,
-- apart from its status, and the payment reports it took (their idempotency
-- record). The new columns have constant defaults: adding them rewrites no
-- table. The check constraint reads every stored order once.
CREATE TABLE "orders"."payment_reports" (
	"provider_event_id" text PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"currency" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"reason" text NOT NULL,
	"actor" text NOT NULL,
	"version" integer NOT NULL,
	"report_time" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "payment_status" text DEFAULT 'PENDING' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "authorized_minor" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "captured_minor" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "refunded_minor" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "refund_pending_minor" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."payment_reports" ADD CONSTRAINT "payment_reports_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "orders"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "payment_reports_order_idx" ON "orders"."payment_reports" USING btree ("order_id","version");--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD CONSTRAINT "orders_payment_amounts_check" CHECK (0 <= "orders"."orders"."refunded_minor" and "orders"."orders"."refunded_minor" <= "orders"."orders"."captured_minor" and "orders"."orders"."captured_minor" <= "orders"."orders"."authorized_minor"
        and "orders"."orders"."authorized_minor" <= "orders"."orders"."total_minor" and 0 <= "orders"."orders"."refund_pending_minor"
        and "orders"."orders"."refund_pending_minor" <= "orders"."orders"."captured_minor" - "orders"."orders"."refunded_minor");