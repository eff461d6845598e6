/**
 * The access rules are declared once, in the protos: every method this
 * service serves has one (default deny would refuse it otherwise), each
 * parses, and the README's access matrix is printed from them.
 */
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { CustomerService, CustomerStatus, UpdateCustomerRequestSchema } from "../../../gen/customers/v1/customer_service_pb.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { ANONYMOUS } from "../../../src/kernel/principal.js";
import { accessMatrixMarkdown, authorize, ruleOf } from "../../../src/platform/access.js";
import { domainThrown } from "../../support/rpc-errors.js";

const SERVED = [OrderService, InventoryService, CustomerService, Health] as const;

describe("access rules", () => {
  it.each(SERVED.flatMap((s) => s.methods.map((m) => [`${s.typeName}/${m.name}`, m] as const)))("%s has a rule", (_, method) => {
    expect(ruleOf(method)).toBeDefined();
  });

  it("README's access matrix is the protos' rules", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const block = /<!-- access:start -->\n([\s\S]*?)\n<!-- access:end -->/.exec(readme);
    expect(block?.[1]).toBe(accessMatrixMarkdown(SERVED));
  });

  it("refuses every call of a method without a rule", () => {
    expect(domainThrown(() => authorize(undefined, ANONYMOUS, create(UpdateCustomerRequestSchema))).kind).toBe("UNAUTHENTICATED");
    expect(domainThrown(() => authorize(undefined, { role: "admin", id: "a" }, create(UpdateCustomerRequestSchema))).reason).toBe("NO_ACCESS_RULE");
  });

  it("lets only the granted roles set a granted field", () => {
    const rule = ruleOf(CustomerService.method.updateCustomer);
    const suspend = create(UpdateCustomerRequestSchema, { customerId: "x", status: CustomerStatus.SUSPENDED });
    const err = domainThrown(() => authorize(rule, { role: "staff", id: "s" }, suspend));
    expect([err.kind, err.reason, err.options.metadata?.field]).toEqual(["PERMISSION_DENIED", "FIELD_NOT_PERMITTED", "status"]);
    expect(() => authorize(rule, { role: "admin", id: "a" }, suspend)).not.toThrow();
    expect(() => authorize(rule, { role: "staff", id: "s" }, create(UpdateCustomerRequestSchema, { customerId: "x", displayName: "New" }))).not.toThrow();
  });
});
