-- Order numbers (README "Orders"): a number a person can say on the phone,
-- from a sequence (no counter row: CreateOrder never waits on another order
-- for its number). Adding the column numbers the orders already stored, in
-- storage order (a table rewrite: on a large table, run it in a quiet hour).
CREATE SEQUENCE "orders"."order_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 100001 CACHE 1;--> statement-breakpoint
ALTER TABLE "orders"."orders" ADD COLUMN "number" bigint DEFAULT nextval('orders.order_number_seq') NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "orders_number_key" ON "orders"."orders" USING btree ("number");