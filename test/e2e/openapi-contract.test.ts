/**
 * The OpenAPI document (gen/openapi/openapi.json) against the service it
 * describes. The real app (createApp, as `npm start` builds it, with the demo
 * data seeded) serves the committed document at /openapi.json. Then every
 * operation's documented example is sent over Connect JSON exactly as the
 * document says — the POST body, or the GET's `?encoding=json&message=` —
 * with a token of a role its `x-access` allows (none when it is public), in
 * the document's order, which the examples are written for (CreateOrder makes
 * the order GetOrder reads...). Each must be answered 200 with a body the
 * document's schema for that operation accepts (two examples need a step of the
 * README tour first: SETUP). Each operation's refusals (no
 * token, a bad token, an unknown field, a wrong content type) must match its
 * documented error responses — status, code and reason. And the schemas are shown to reject
 * wrong answers, so a pass means something.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../src/kernel/principal.js";
import {
  createSchemaValidator,
  exampleRequest,
  loadOpenApi,
  operationsOf,
  responseSchema,
  type OpenApiDocument,
  type SchemaValidator,
} from "../../scripts/openapi/check.js";
import { ADMIN, STAFF, tokenFor, WAREHOUSE } from "../support/auth.js";
import { startTestStack, type TestStack } from "../support/servers.js";

const doc: OpenApiDocument = loadOpenApi();
const operations = operationsOf(doc);

let stack: TestStack;
let schemas: SchemaValidator;
/** The answers of the examples, by operationId, for the checks that the schemas reject wrong ones. */
const answers = new Map<string, unknown>();

beforeAll(async () => {
  stack = await startTestStack({ config: { seedDemoData: true } });
  schemas = createSchemaValidator(doc);
});
afterAll(async () => {
  await stack?.close();
});

interface Access {
  readonly public?: boolean;
  readonly roles?: readonly string[];
}

/** A caller the operation's documented access rule lets in: nobody for public methods, else admin, a service (warehouse), staff. */
function callerOf(operation: Record<string, unknown>): Principal | undefined {
  const access = operation["x-access"] as Access;
  if (access.public) return undefined;
  const roles = access.roles ?? [];
  if (roles.includes("admin")) return ADMIN;
  if (roles.includes("service")) return WAREHOUSE;
  if (roles.includes("staff")) return STAFF;
  throw new Error(`no test caller for roles ${roles.join(", ")}`);
}

/** One Connect JSON call as the document describes it (or with another content type). */
async function call(path: string, method: string, message: unknown, authorization?: string, contentType = "application/json"): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = authorization ? { authorization } : {};
  const res =
    method === "get"
      ? await fetch(`${stack.httpUrl}${path}?encoding=json&message=${encodeURIComponent(JSON.stringify(message))}`, { headers })
      : await fetch(`${stack.httpUrl}${path}`, { method: "POST", headers: { ...headers, "content-type": contentType }, body: JSON.stringify(message) });
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: res.status, body: await res.json() };
}

const bearerOf = async (p: Principal | undefined) => (p ? `Bearer ${await tokenFor(p)}` : undefined);

/** The reason of a Connect error body's ErrorInfo. */
const reasonOf = (body: unknown) =>
  (body as { details?: { type: string; debug?: { reason?: string } }[] }).details?.find((d) => d.type === "google.rpc.ErrorInfo")?.debug?.reason;

it("serves the committed document at /openapi.json, and Swagger UI at /docs/, without a token", async () => {
  const res = await fetch(`${stack.httpUrl}/openapi.json`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual(doc);
  const page = await fetch(`${stack.httpUrl}/docs/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("swagger-ui-bundle.js");
});

const TOUR_ORDER = "50702ee9-9c0a-576a-87ea-8db4309689c8";

/**
 * What the README tour does between the examples that no earlier example
 * does: the examples follow the tour, and two need a step of it first.
 */
const SETUP: Record<string, () => Promise<void>> = {
  // Grace's parcels are delivered (the tour ships and delivers them) before she returns a mug.
  OrderService_RequestReturn: async () => {
    for (const status of ["ORDER_STATUS_SHIPPED", "ORDER_STATUS_DELIVERED"]) {
      const { status: code, body } = await call("/orders.v1.OrderService/UpdateOrderStatus", "post", { orderId: TOUR_ORDER, status }, `Bearer ${await tokenFor(STAFF)}`);
      expect(code, JSON.stringify(body)).toBe(200);
    }
  },
  // Ada places the order she cancels in the tour.
  OrderService_CancelOrder: async () => {
    const order = {
      customerId: "11111111-1111-4111-8111-111111111111",
      requestId: "tour-2",
      items: [{ productId: "aaaaaaaa-0000-4000-8000-000000000003", quantity: 3 }],
    };
    const { status: code, body } = await call("/orders.v1.OrderService/CreateOrder", "post", order, `Bearer ${await tokenFor(ADMIN)}`);
    expect(code, JSON.stringify(body)).toBe(200);
  },
};

describe("every operation's example, in the document's order", () => {
  it.each(operations.map((o) => [`${o.method.toUpperCase()} ${o.path}`, o] as const))("%s answers 200 as documented", async (_, { path, method, operation }) => {
    await SETUP[String(operation.operationId)]?.();
    const { status, body } = await call(path, method, exampleRequest(doc, operation), await bearerOf(callerOf(operation)));
    expect(schemas.problems(responseSchema(doc, operation, status), body)).toEqual([]);
    expect(status, JSON.stringify(body)).toBe(200);
    answers.set(String(operation.operationId), body);
  });
});

describe("every operation's refusals match its documented errors", () => {
  const posts = operations.filter((o) => o.method === "post");

  it.each(posts.map((o) => [o.path, o] as const))("%s", async (_, { path, method, operation }) => {
    const example = exampleRequest(doc, operation) as Record<string, unknown>;
    const caller = await bearerOf(callerOf(operation));
    const refusals: { status: number; reason: string; answer: Promise<{ status: number; body: unknown }> }[] = [
      // A field the contract does not have.
      { status: 400, reason: "INVALID_REQUEST", answer: call(path, method, { ...example, notAField: 1 }, caller) },
      // A token that does not verify, on public methods too.
      { status: 401, reason: "TOKEN_INVALID", answer: call(path, method, example, "Bearer not.a.token") },
      // A body in no protocol's content type.
      { status: 415, reason: "UNSUPPORTED_MEDIA_TYPE", answer: call(path, method, example, caller, "text/plain") },
    ];
    if (caller) refusals.push({ status: 401, reason: "CREDENTIALS_REQUIRED", answer: call(path, method, example) });
    for (const r of refusals) {
      const { status, body } = await r.answer;
      expect([status, reasonOf(body)], JSON.stringify(body)).toEqual([r.status, r.reason]);
      expect(schemas.problems(responseSchema(doc, operation, status), body)).toEqual([]);
    }
  });
});

describe("the schemas reject what the document does not allow", () => {
  const getOrder = operations.find((o) => o.operation.operationId === "OrderService_GetOrder")!.operation;
  const getProduct = "InventoryService_GetProduct";
  type OrderAnswer = { order: Record<string, unknown> & { total: Record<string, unknown> } };
  const order = () => structuredClone(answers.get("OrderService_GetOrder")) as OrderAnswer;

  it("a success body that is not the operation's response", () => {
    const ok = schemas.problems(responseSchema(doc, getOrder, 200), order());
    expect(ok).toEqual([]);
    const unknownStatus = order();
    unknownStatus.order.status = "ORDER_STATUS_LOST";
    const extraField = order();
    extraField.order.colour = "red";
    const numberNotString = order();
    numberNotString.order.total.amountMinor = 4900; // int64 is a string in protobuf JSON
    const notADate = order();
    notADate.order.createTime = "yesterday";
    for (const wrong of [unknownStatus, extraField, numberNotString, notADate, answers.get(getProduct)]) {
      expect(schemas.problems(responseSchema(doc, getOrder, 200), wrong)).not.toEqual([]);
    }
  });

  it("an error body with a code or reason its status does not document", async () => {
    const { status, body } = await call("/orders.v1.OrderService/GetOrder", "post", { orderId: "50702ee9-9c0a-576a-87ea-8db4309689c8" });
    expect(status).toBe(401);
    const schema = responseSchema(doc, getOrder, 401);
    expect(schemas.problems(schema, body)).toEqual([]);
    const withReason = (reason: string) => {
      const b = structuredClone(body) as { details: { type: string; debug: { reason: string } }[] };
      b.details.find((d) => d.type === "google.rpc.ErrorInfo")!.debug.reason = reason;
      return b;
    };
    expect(schemas.problems(schema, withReason("ORDER_NOT_FOUND"))).not.toEqual([]); // a reason, but not a 401's
    expect(schemas.problems(schema, withReason("NO_SUCH_REASON"))).not.toEqual([]);
    expect(schemas.problems(schema, { ...(body as object), code: "not_found" })).not.toEqual([]);
    expect(schemas.problems(schema, { code: "unauthenticated" })).not.toEqual([]); // no ErrorInfo
  });
});
