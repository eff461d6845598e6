-- Reservations belong to the principal that made them: ids are unique per
-- owner, so no caller can occupy, read, commit or release another's (an
-- order's reservation id used to be guessable and squattable). Every
-- reservation made before this was the order module's.
ALTER TABLE "inventory"."reservation_lines" DROP CONSTRAINT "reservation_lines_reservation_id_reservations_id_fk";--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" DROP CONSTRAINT "reservation_lines_pkey";--> statement-breakpoint
ALTER TABLE "inventory"."reservations" DROP CONSTRAINT "reservations_pkey";--> statement-breakpoint
ALTER TABLE "inventory"."reservations" ADD COLUMN "owner" text NOT NULL DEFAULT 'service:orders';--> statement-breakpoint
ALTER TABLE "inventory"."reservations" ALTER COLUMN "owner" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" ADD COLUMN "owner" text NOT NULL DEFAULT 'service:orders';--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" ALTER COLUMN "owner" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "inventory"."reservations" ADD CONSTRAINT "reservations_pkey" PRIMARY KEY("owner","id");--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" ADD CONSTRAINT "reservation_lines_pkey" PRIMARY KEY("owner","reservation_id","product_id");--> statement-breakpoint
ALTER TABLE "inventory"."reservation_lines" ADD CONSTRAINT "reservation_lines_reservation_fkey" FOREIGN KEY ("owner","reservation_id") REFERENCES "inventory"."reservations"("owner","id") ON DELETE cascade ON UPDATE no action;
