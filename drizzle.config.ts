import { defineConfig } from "drizzle-kit";

// Each service owns its tables in its own Postgres schema; one migration
// history covers them all and runs on Postgres and PGlite alike.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/*/infra/schema.ts",
  out: "./migrations",
  schemaFilter: ["inventory", "customers", "orders"],
});
