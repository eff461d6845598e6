import { getTableColumns, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { products, reservationLines } from "../../../src/inventory/infra/schema.js";
import { list, namesOf } from "../../../src/platform/sql-names.js";

const render = (q: ReturnType<typeof sql>) => new PgDialect().sqlToQuery(q).sql;

describe("namesOf", () => {
  it("renders the table's qualified name (no parentheses) and each column's bare name, as the schema spells them", () => {
    const P = namesOf(products);
    expect(render(sql`update ${P} pr set ${P.stockOnHand} = pr.${P.reserved}`)).toBe(
      `update "inventory"."products" pr set "stock_on_hand" = pr."reserved"`,
    );
    const L = namesOf(reservationLines);
    expect(render(sql`insert into ${L} (${list(L.reservationId, L.unitPriceMinor)})`)).toBe(
      `insert into "inventory"."reservation_lines" ("reservation_id", "unit_price_minor")`,
    );
  });

  it("has a name for every column of the table", () => {
    const P = namesOf(products);
    for (const [key, column] of Object.entries(getTableColumns(products))) {
      expect(render(sql`${P[key as keyof typeof P] as ReturnType<typeof sql>}`)).toBe(`"${column.name}"`);
    }
  });
});
