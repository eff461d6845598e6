-- Stock returns (InventoryService.ReturnStock): how much of each sold line came
-- back to stock, and each return taken (its idempotency record, per owner,
-- reservation and return id). The new column has a constant default: adding
-- it rewrites no table; the check constraint reads every stored line once.
CREATE TABLE "inventory"."stock_returns" (
	"owner" text NOT NULL,
	"reservation_id" text NOT NULL,
	"return_id" text NOT NULL,
	"lines" jsonb NOT NULL,
	"reason" text NOT NULL,
	"create_time" timestamp with time zone NOT NULL,
	CONSTRAINT "stock_returns_pkey" PRIMARY KEY("owner","reservation_id","return_id")
);
--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" ADD COLUMN "returned_quantity" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "inventory"."stock_returns" ADD CONSTRAINT "stock_returns_reservation_fkey" FOREIGN KEY ("owner","reservation_id") REFERENCES "inventory"."reservations"("owner","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" ADD CONSTRAINT "reservation_lines_returned_check" CHECK ("inventory"."reservation_lines"."returned_quantity" >= 0 and "inventory"."reservation_lines"."returned_quantity" <= "inventory"."reservation_lines"."quantity");