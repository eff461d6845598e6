/**
 * The committed OpenAPI document (gen/openapi/openapi.json, made by
 * scripts/protoc-gen-openapi.ts): valid OpenAPI 3.1 by a real validator
 * (what `npm run check:openapi` runs), and true to the code — every RPC the
 * service serves is in it, each operation's access is the server's access
 * rule, every reason src/ raises is documented, and every reason a method's
 * proto comment names is among its operation's documented errors. Whether it
 * is fresh is `npm run check:gen`'s job; whether the service answers as it
 * says, test/e2e/openapi-contract.test.ts's.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { CustomerService } from "../../../gen/customers/v1/customer_service_pb.js";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { OrderService } from "../../../gen/orders/v1/order_service_pb.js";
import { checkOpenApi, loadOpenApi, operationsOf, resolve, type OpenApiDocument } from "../../../scripts/openapi/check.js";
import { ERROR_REASONS } from "../../../scripts/openapi/error-reasons.js";
import type { Json } from "../../../scripts/openapi/proto-text.js";
import { ruleOf } from "../../../src/platform/access.js";

const doc = loadOpenApi();
const SERVED: readonly DescService[] = [OrderService, InventoryService, CustomerService, Health];

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1: schemas compile, refs resolve, every example passes its schema", async () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(await checkOpenApi(doc)).toEqual([]);
  });

  it("the check fails a broken document", async () => {
    const bodyParameter = structuredClone(doc); // OpenAPI 2's, not 3's
    (bodyParameter.paths["/orders.v1.OrderService/GetOrder"].post.parameters as Json[]).push({ name: "order", in: "body", schema: {} });
    const misspelt = structuredClone(doc);
    (misspelt.components.schemas["orders.v1.GetOrderRequest"].properties as Record<string, Json>).orderId.minLenght = 1;
    const badExample = structuredClone(doc);
    ((badExample.paths["/orders.v1.OrderService/GetOrder"].post.requestBody as Json).content as Record<string, Json>)["application/json"].example = { orderId: "x" };
    const dangling = structuredClone(doc);
    (dangling.paths["/orders.v1.OrderService/GetOrder"].post.responses as Record<string, Json>)["404"] = { $ref: "#/components/responses/nope" };
    for (const broken of [bodyParameter, misspelt, badExample, dangling]) expect(await checkOpenApi(broken)).not.toEqual([]);
  });

  it("has a POST for every unary RPC served, a GET for those without side effects, the streams in their service's tag", () => {
    for (const service of SERVED) {
      for (const method of service.methods) {
        const path = `/${service.typeName}/${method.name}`;
        if (method.methodKind === "unary") {
          expect(Object.keys(doc.paths[path] ?? {}).sort(), path).toEqual(method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ? ["get", "post"] : ["post"]);
        } else {
          const tag = (doc.tags as Json[]).find((t) => t.name === service.typeName)!;
          expect((tag["x-streaming-methods"] as Json[]).map((s) => s.path), path).toContain(path);
        }
      }
    }
  });

  it("says who may call each operation exactly as the server's access rules do", () => {
    for (const service of SERVED) {
      for (const method of service.methods.filter((m) => m.methodKind === "unary")) {
        const rule = ruleOf(method)!;
        const documented = doc.paths[`/${service.typeName}/${method.name}`].post["x-access"] as Json;
        expect(documented, method.name).toEqual({
          public: rule.public,
          roles: [...rule.roles],
          ...(rule.customerScope && { customerScope: rule.customerScope }),
          ...(rule.callerOwned && { callerOwned: true }),
          ...(rule.fieldGrants.length > 0 && { fieldGrants: rule.fieldGrants.map((g) => ({ field: g.field.jsonName, roles: [...g.roles] })) }),
        });
      }
    }
  });

  it("documents every reason src/ raises", () => {
    const raised = reasonsRaisedIn(join(import.meta.dirname, "../../../src"));
    expect(raised.size).toBeGreaterThan(40); // the scan finds them
    expect([...raised].filter((r) => !(r in ERROR_REASONS))).toEqual([]);
    expect(((doc.components.schemas["connect.ErrorReason"] as Json).enum as string[]).length).toBe(Object.keys(ERROR_REASONS).length);
  });

  it("lists, for each operation, the reasons its method's and request's comments name", () => {
    for (const { path, method, operation } of operationsOf(doc)) {
      const request = resolve(doc, requestSchemaOf(operation));
      const text = [operation.description, request.description, ...Object.values((request.properties ?? {}) as Record<string, Json>).map((p) => p.description)].join("\n");
      const named = [...new Set(text.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? [])].filter((w) => w in ERROR_REASONS);
      expect(named.filter((r) => !documentedReasons(doc, operation).has(r)), `${method} ${path}`).toEqual([]);
    }
  });
});

function requestSchemaOf(operation: Json): Json {
  const body = operation.requestBody as Json | undefined;
  if (body) return ((body.content as Record<string, Json>)["application/json"]).schema as Json;
  const message = (operation.parameters as Json[]).find((p) => p.name === "message")!;
  return ((message.content as Record<string, Json>)["application/json"]).schema as Json;
}

/** The reasons of an operation's error responses (each status's schema names them). */
function documentedReasons(d: OpenApiDocument, operation: Json): Set<string> {
  const reasons = new Set<string>();
  for (const [status, ref] of Object.entries(operation.responses as Record<string, Json>)) {
    if (status === "200" || status === "default") continue;
    const schema = ((resolve(d, ref).content as Record<string, Json>)["application/json"]).schema as Json;
    const details = (schema.properties as Record<string, Json>).details;
    const debug = ((details.contains as Json).properties as Record<string, Json>).debug;
    for (const r of ((debug.properties as Record<string, Json>).reason.enum as string[]) ?? []) reasons.add(r);
  }
  return reasons;
}

/**
 * The reasons src/ raises in the usual forms: a src/kernel/errors.ts factory
 * or `new DomainError(kind, reason, ...)`, an ErrorInfo `reason:` and the
 * protocol layer's refusals (`refusal(415, "UNSUPPORTED_MEDIA_TYPE", ...)`).
 * Reasons made up at run time (a dependency's `INVENTORY_UNAVAILABLE`) or
 * held in a variable are in the table too, but only a review finds new ones.
 */
function reasonsRaisedIn(dir: string): Set<string> {
  const R = "([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)";
  const forms = [
    new RegExp(`\\b(?:invalidArgument|notFound|alreadyExists|failedPrecondition|aborted|unavailable|resourceExhausted|deadlineExceeded|unauthenticated|permissionDenied)\\(\\s*"${R}"`, "g"),
    new RegExp(`new DomainError\\(\\s*"[A-Z_]+",\\s*"${R}"`, "g"),
    new RegExp(`\\breason:\\s*(?:\\w+\\s*\\?\\s*"${R}"\\s*:\\s*)?"${R}"`, "g"),
    new RegExp(`\\(\\s*\\d{3},\\s*"${R}"`, "g"),
  ];
  const found = new Set<string>();
  for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(join(dir, file), "utf8");
    for (const form of forms) for (const m of source.matchAll(form)) for (const r of m.slice(1)) if (r) found.add(r);
  }
  return found;
}
