/**
 * The OpenAPI 3.1 document of the Connect JSON surface: one POST operation
 * per unary RPC (and a GET for those without side effects, as Connect allows),
 * its request and response schemas, example request, access rule and error
 * reasons. Streaming RPCs cannot be called with a plain JSON POST (their
 * messages are enveloped), so they are no operations: each service's tag
 * describes them and lists them in `x-streaming-methods`, with their message
 * schemas in the components.
 */
import { readFileSync } from "node:fs";
import type { DescFile, DescMethod, DescService, JsonValue, Registry } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { accessRuleOf, accessText, PLATFORM_SERVICES } from "./access.js";
import { errorResponses, errorSchemas, reasonList, reasonsOf, type OperationFacts } from "./errors.js";
import { createSchemaBuilder, type SchemaBuilder } from "./json-schema.js";
import { commentOf, firstSentence, splitExample, type Json } from "./proto-text.js";

const INTRO = readFileSync(new URL("./intro.md", import.meta.url), "utf8").trim();

/** The document for the services of `files`, in their order. */
export function buildOpenApiDocument(registry: Registry, files: readonly DescFile[]): Json {
  const schemas = createSchemaBuilder(registry);
  const services = files.flatMap((f) => f.services).sort((a, b) => rank(a) - rank(b));
  const paths: Record<string, Json> = {};
  const responses: Record<string, Json> = {
    "connect.Error": { description: "Any other error.", content: { "application/json": { schema: { $ref: "#/components/schemas/connect.Error" } } } },
  };
  const tags: Json[] = [];
  for (const service of services) {
    for (const method of service.methods.filter((m) => m.methodKind === "unary")) {
      // Operation ids are Service_Method, as most generators name them: unique while service names are.
      if (services.some((s) => s !== service && s.name === service.name)) throw new Error(`two services are named ${service.name}`);
      paths[pathOf(method)] = pathItem(registry, schemas, method, responses);
    }
    tags.push(serviceTag(registry, schemas, service));
  }
  const errors = errorSchemas(registry, schemas);
  return {
    openapi: "3.1.0",
    info: {
      title: "order-service: the Connect JSON API",
      version: apiVersion(services),
      description: `${INTRO}\n\n## Streaming methods\n\n${streamingSummary(services)}`,
    },
    servers: [{ url: "/", description: "The Connect port of the service serving this document (8080 by default)." }],
    security: [{ bearerAuth: [] }],
    tags,
    paths,
    components: {
      schemas: { ...schemas.components(), ...errors },
      responses,
      parameters: PARAMETERS,
      headers: {
        RetryAfter: { description: "Whole seconds until trying again can succeed, when the error has a `google.rpc.RetryInfo`.", schema: { type: "string", pattern: "^[0-9]+$" } },
      },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A JWT signed by a key the service trusts, with claims `role` (`customer`, `staff`, `admin`, `service`), `customer_id` for customers, `sub` for the others, `iss`, `aud` and `exp`. " +
            "`npm start` prints ready-to-paste tokens for the demo data; `npm run token -- --role admin` mints more. Paste the token without `Bearer `.",
        },
      },
    },
  };
}

/** Services in the README's order; the ones we do not own (health, reflection) last. */
const FIRST = ["orders.v1.OrderService", "inventory.v1.InventoryService", "customers.v1.CustomerService"];
const rank = (s: DescService) => (FIRST.includes(s.typeName) ? FIRST.indexOf(s.typeName) : PLATFORM_SERVICES.has(s.typeName) ? FIRST.length + 1 : FIRST.length);

const pathOf = (method: DescMethod) => `/${method.parent.typeName}/${method.name}`;

/** "v1" when every package is at v1; the packages' versions otherwise. */
function apiVersion(services: readonly DescService[]): string {
  const versions = new Set(services.filter((s) => !PLATFORM_SERVICES.has(s.typeName)).map((s) => s.typeName.split(".").at(-2)));
  return [...versions].sort().join(", ");
}

function pathItem(registry: Registry, schemas: SchemaBuilder, method: DescMethod, responses: Record<string, Json>): Json {
  const rule = accessRuleOf(registry, method);
  const facts: OperationFacts = { name: `${method.parent.name}.${method.name}`, platform: PLATFORM_SERVICES.has(method.parent.typeName), rule, input: method.input };
  const request = schemas.ref(method.input);
  const example = exampleOf(registry, schemas, method);
  const summary = firstSentence(commentOf(method)) || method.name;
  const description = [commentOf(method), accessText(rule)].filter(Boolean).join("\n\n");
  const headers = [{ $ref: "#/components/parameters/ConnectProtocolVersion" }, { $ref: "#/components/parameters/ConnectTimeoutMs" }];
  if (rule?.roles.includes("service")) headers.push({ $ref: "#/components/parameters/XActor" });
  const security = rule?.public ? { security: [{}, { bearerAuth: [] }] } : {};
  /** What the POST and the GET share: the answers, and who may call. */
  const shared: Json = {
    responses: {
      "200": { description: `The \`${method.output.typeName}\`.`, content: { "application/json": { schema: schemas.ref(method.output) } } },
      ...errorResponses(facts, responses),
    },
    ...(method.deprecated ? { deprecated: true } : {}),
    "x-access": (rule ?? { deny: true }) as Json,
  };
  const id = `${method.parent.name}_${method.name}`;
  const tags = [method.parent.typeName];
  const item: Json = {
    post: {
      operationId: id,
      tags,
      summary,
      description,
      ...security,
      parameters: headers,
      requestBody: { required: true, content: { "application/json": { schema: request, example } } },
      ...shared,
    },
  };
  if (method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) {
    item.get = {
      operationId: `${id}_get`,
      tags,
      summary: `${summary.replace(/\.$/, "")} (Connect GET)`,
      description: `${description}\n\nThe same call as the POST, as a Connect GET (the method has no side effects): the request is the \`message\` query parameter, so the answer can be cached and the call linked.`,
      ...security,
      parameters: [
        { $ref: "#/components/parameters/ConnectGetEncoding" },
        { name: "message", in: "query", required: true, description: "The request message in JSON (URL-encoded).", content: { "application/json": { schema: request, example } } },
        { $ref: "#/components/parameters/ConnectGetBase64" },
        { $ref: "#/components/parameters/ConnectGetCompression" },
        { $ref: "#/components/parameters/ConnectGetVersion" },
        ...headers.slice(1),
      ],
      ...shared,
    };
  }
  return item;
}

/**
 * The example request of a method: the `Example:` paragraph of its request
 * message's comment (checked against the message when generating), or `{}`
 * for a request without required fields (health's, which is not ours).
 */
function exampleOf(registry: Registry, schemas: SchemaBuilder, method: DescMethod): JsonValue {
  const { example } = splitExample(registry, method.input);
  if (example !== undefined) return example;
  if (schemas.components()[method.input.typeName].required === undefined) return {};
  throw new Error(`${method.input.typeName} has required fields and no example: end its comment with "Example: {...}"`);
}

/** A service's tag: its comment, and the streaming methods no operation describes. */
function serviceTag(registry: Registry, schemas: SchemaBuilder, service: DescService): Json {
  const streams = service.methods.filter((m) => m.methodKind !== "unary");
  const described = streams.map((m) => {
    const rule = accessRuleOf(registry, m);
    const reasons = reasonsOf({ name: `${service.name}.${m.name}`, platform: PLATFORM_SERVICES.has(service.typeName), rule, input: m.input });
    const own = reasons.filter(([, d]) => typeof d.scope !== "string");
    const shared = reasons.filter(([, d]) => typeof d.scope === "string").map(([r]) => `\`${r}\``);
    const clients =
      m.methodKind === "bidi_streaming" ? "a gRPC client, or a Connect client over HTTP/2 (`buf curl`, grpcurl)" : "a Connect, gRPC or gRPC-Web client (connect-es, `buf curl`)";
    return [
      `### ${m.name} (${m.methodKind.replace("_", " ")})`,
      `Not callable with a plain JSON POST: use ${clients}. Request \`${m.input.typeName}\`, ` +
        `${m.methodKind === "server_streaming" ? "then a stream of" : "answered by a stream of"} \`${m.output.typeName}\` (see Schemas).`,
      commentOf(m),
      accessText(rule),
      `The stream ends with an error of reason ${own.length > 0 ? `one of:\n\n${reasonList(own)}\n\nor ` : ""}${shared.join(", ")} (see \`connect.ErrorReason\`).`,
    ]
      .filter(Boolean)
      .join("\n\n");
  });
  return {
    name: service.typeName,
    description: [commentOf(service), ...described].filter(Boolean).join("\n\n"),
    ...(streams.length > 0 && {
      "x-streaming-methods": streams.map((m) => ({
        name: m.name,
        path: pathOf(m),
        kind: m.methodKind,
        request: schemas.ref(m.input).$ref as string,
        response: schemas.ref(m.output).$ref as string,
      })),
    }),
  };
}

function streamingSummary(services: readonly DescService[]): string {
  const streams = services.flatMap((s) => s.methods.filter((m) => m.methodKind !== "unary"));
  return (
    "These are no operations on this page: their messages are enveloped (Connect streaming, gRPC, gRPC-Web), so a plain JSON POST cannot call them. " +
    "Each service's section describes its own; their message schemas are below.\n\n" +
    streams.map((m) => `- \`${pathOf(m)}\` (${m.methodKind.replace("_", " ")}): ${firstSentence(commentOf(m)) || m.name}`).join("\n")
  );
}

/** Headers and query parameters of the Connect protocol (https://connectrpc.com/docs/protocol). */
const PARAMETERS: Record<string, Json> = {
  ConnectProtocolVersion: {
    name: "Connect-Protocol-Version",
    in: "header",
    description: "The Connect protocol version. Optional here; Connect clients send it.",
    schema: { type: "string", enum: ["1"] },
  },
  ConnectTimeoutMs: {
    name: "Connect-Timeout-Ms",
    in: "header",
    description: "The call's deadline in milliseconds (at most 10 digits); without it the service's `DEFAULT_DEADLINE_MS` applies.",
    schema: { type: "string", pattern: "^[0-9]{1,10}$" },
  },
  XActor: {
    name: "x-actor",
    in: "header",
    description: "From a service only: whom it acts for, kept in the order history (`service:warehouse for picker-7`); ignored from anyone else.",
    schema: { type: "string", pattern: "^[\\x21-\\x7e][\\x20-\\x7e]{0,255}$" },
  },
  ConnectGetEncoding: { name: "encoding", in: "query", required: true, description: "How `message` is encoded: `json` (or `proto`, with `base64=1`).", schema: { type: "string", enum: ["json", "proto"] } },
  ConnectGetBase64: { name: "base64", in: "query", description: "`1`: `message` is base64url-encoded (required for `proto`).", schema: { type: "string", enum: ["1"] } },
  ConnectGetCompression: { name: "compression", in: "query", description: "How `message` is compressed, if at all.", schema: { type: "string", enum: ["identity", "gzip", "br"] } },
  ConnectGetVersion: { name: "connect", in: "query", description: "The Connect protocol version, `v1`. Optional here.", schema: { type: "string", enum: ["v1"] } },
};
