import { create } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { describe, expect, it } from "vitest";
import { CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import { Health, HealthCheckRequestSchema } from "../../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import {
  GetOrderRequestSchema,
  OrderSchema,
  OrderService,
} from "../../../gen/orders/v1/order_service_pb.js";
import { hasValidationRules } from "../../../src/platform/rpc/validation-rules.js";

describe("hasValidationRules", () => {
  it("finds field rules", () => {
    expect(hasValidationRules(GetOrderRequestSchema)).toBe(true);
  });

  it("finds rules only reachable through nested messages", () => {
    // Order has no rule of its own; its Address and ShippingInfo do.
    expect(hasValidationRules(OrderSchema)).toBe(true);
  });

  it("reports a message without any rule", () => {
    expect(hasValidationRules(HealthCheckRequestSchema)).toBe(false);
  });

  it("is right for every request type served: rule-free requests are valid even when filled in", () => {
    const validator = createValidator();
    const services = [OrderService, InventoryService, CustomerService, Health];
    const inputs = services.flatMap((s) => s.methods.map((m) => m.input));
    expect(inputs.filter((i) => hasValidationRules(i))).not.toHaveLength(0);
    for (const input of inputs.filter((i) => !hasValidationRules(i))) {
      // A message with every string set to something no rule would accept.
      const init = Object.fromEntries(
        input.fields.filter((f) => f.fieldKind === "scalar" && f.scalar === 9).map((f) => [f.localName, "\u0000 not valid"]),
      );
      expect(validator.validate(input, create(input, init as never)).kind).toBe("valid");
    }
  });

});
