-- Fulfilment in several shipments, and returns (README "Shipments", "Returns"):
-- an order's shipments, returns and restocks (stock given back after the
-- sale: the unshipped rest of an order cancelled once parcels had left, the
-- units of a received return) live in its row (jsonb, changed only under the
-- row lock), with the derived fulfilment status and the reconciler's restock
-- flag beside them. Orders shipped before shipments existed get one shipment
-- holding every unit, as the one-shipment shortcut makes now.
ALTER TABLE "orders"."orders" ADD COLUMN "shipments" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "fulfilment_status" text DEFAULT 'UNFULFILLED' NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "restocks" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "returns" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "restock_pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "orders_restock_pending_idx" ON "orders"."orders" USING btree ("update_time") WHERE "orders"."orders"."restock_pending";--> statement-breakpoint
UPDATE "orders"."orders" o SET
  "fulfilment_status" = o."status",
  "shipments" = jsonb_build_array(jsonb_build_object(
    'id', gen_random_uuid()::text,
    'requestId', 'before-shipments',
    'status', o."status",
    'lines', (SELECT jsonb_agg(jsonb_build_object('lineNo', l."line_no", 'quantity', l."quantity") ORDER BY l."line_no")
              FROM "orders"."order_lines" l WHERE l."order_id" = o."id"),
    'carrier', o."carrier",
    'trackingNumber', o."tracking_number",
    'createTime', to_json(o."update_time")#>>'{}',
    'shipTime', to_json(o."update_time")#>>'{}',
    'deliverTime', CASE WHEN o."status" = 'DELIVERED' THEN to_json(o."update_time")#>>'{}' END))
WHERE o."status" IN ('SHIPPED', 'DELIVERED');
