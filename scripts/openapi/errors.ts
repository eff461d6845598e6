/**
 * The Connect error body (https://connectrpc.com/docs/protocol#error-end-stream)
 * as schemas, and each operation's error responses: the reasons it can give
 * (error-reasons.ts), grouped by the HTTP status of their code, each status's
 * schema narrowed to its codes and to an ErrorInfo with one of its reasons.
 */
import type { DescMessage, Registry } from "@bufbuild/protobuf";
import type { AccessRule } from "./access.js";
import { CONNECT_CODES, ERROR_REASONS, type ConnectCode, type ReasonDoc } from "./error-reasons.js";
import type { SchemaBuilder } from "./json-schema.js";
import type { Json } from "./proto-text.js";

/** The google.rpc details this service sends, by type. */
const DETAILS = ["google.rpc.ErrorInfo", "google.rpc.BadRequest", "google.rpc.PreconditionFailure", "google.rpc.RetryInfo"];

/** ErrorInfo.domain of every error of this service (src/platform/rpc/rpc-errors.ts ERROR_DOMAIN). */
const ERROR_DOMAIN = "order-service";

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** connect.Error and what it is made of, plus the google.rpc detail messages (added to `schemas`). */
export function errorSchemas(registry: Registry, schemas: SchemaBuilder): Record<string, Json> {
  for (const name of DETAILS) {
    const detail = registry.getMessage(name);
    if (!detail) throw new Error(`${name} is not among the generated files (third_party/proto/google/rpc)`);
    schemas.ref(detail);
  }
  const reasons = Object.entries(ERROR_REASONS);
  return {
    "connect.Error": {
      type: "object",
      description:
        "The body of every failed call: a code, a message for developers, and details. Every error of this service carries a " +
        "`google.rpc.ErrorInfo` detail whose `reason` is stable (`connect.ErrorReason`); bad fields come with a `google.rpc.BadRequest`, " +
        "unmet preconditions with a `google.rpc.PreconditionFailure`, and answers worth retrying later with a `google.rpc.RetryInfo` " +
        "(and the `retry-after` header).",
      required: ["code"],
      properties: {
        code: ref("connect.Code"),
        message: { type: "string", description: "For developers, in English; never shown to users." },
        details: { type: "array", items: ref("connect.ErrorDetail") },
      },
      additionalProperties: false,
    },
    "connect.Code": {
      type: "string",
      description: `The Connect code, with the HTTP status it is answered with:\n\n${Object.entries(CONNECT_CODES).map(([c, s]) => `- \`${c}\`: ${s}`).join("\n")}`,
      enum: Object.keys(CONNECT_CODES),
    },
    "connect.ErrorDetail": {
      type: "object",
      description: "One detail: a protobuf message, binary in `value`; this service also sends it as JSON in `debug`.",
      required: ["type", "value", "debug"],
      properties: {
        type: { type: "string", description: "The detail's full message name, e.g. `google.rpc.ErrorInfo`." },
        value: { type: "string", contentEncoding: "base64", description: "The detail message in the protobuf binary format, base64-encoded (padding optional)." },
        debug: { type: "object", description: "The same detail in protobuf JSON, for reading; decode `value` to be safe from changes." },
      },
      additionalProperties: false,
      allOf: DETAILS.map((name) => ({
        if: { properties: { type: { const: name } } },
        then: { properties: { debug: name === "google.rpc.ErrorInfo" ? ref("connect.ErrorInfo") : ref(name) } },
      })),
    },
    "connect.ErrorInfo": {
      description: "The ErrorInfo of every error of this service: a stable `reason`, the `domain` `order-service`, and metadata naming what it is about.",
      allOf: [ref("google.rpc.ErrorInfo")],
      required: ["reason", "domain"],
      properties: { reason: ref("connect.ErrorReason"), domain: { const: ERROR_DOMAIN } },
    },
    "connect.ErrorReason": {
      type: "string",
      description: `Every reason this service gives, with its code:\n\n${reasonList(reasons)}`,
      enum: reasons.map(([r]) => r),
    },
  };
}

/** What decides which reasons an operation can give. */
export interface OperationFacts {
  /** "Service.Method", as error-reasons.ts names methods. */
  readonly name: string;
  /** A service we serve but do not own (health, reflection). */
  readonly platform: boolean;
  readonly rule: AccessRule | undefined;
  readonly input: DescMessage;
}

/** The reasons an operation can give. */
export function reasonsOf(op: OperationFacts): [string, ReasonDoc][] {
  const has = (field: string) => op.input.fields.some((f) => f.name === field);
  const applies = (d: ReasonDoc): boolean => {
    if (typeof d.scope !== "string") return d.scope.includes(op.name);
    switch (d.scope) {
      case "any":
        return true;
      case "stored":
        return !op.platform;
      case "authenticated":
        return op.rule !== undefined && !op.rule.public;
      case "no-rule":
        return op.rule === undefined;
      case "field-grants":
        return (op.rule?.fieldGrants?.length ?? 0) > 0;
      case "service-callers":
        return op.rule?.roles.includes("service") === true;
      case "paged":
        return has("page_token");
      case "etag":
        return has("etag");
      case "none":
        return false;
    }
  };
  return Object.entries(ERROR_REASONS).filter(([, d]) => applies(d));
}

/** The reasons as markdown lines. */
export function reasonList(reasons: readonly [string, ReasonDoc][]): string {
  return reasons.map(([r, d]) => `- \`${r}\` (\`${d.code}\`${d.status ? `, HTTP ${d.status}` : ""}): ${d.summary}`).join("\n");
}

/**
 * An operation's error responses, by HTTP status (plus `default` for anything
 * else), as references to `responses`, where they are added. A status whose
 * reasons are all shared ones (every method's, every public method's...) is
 * one response for every operation with the same: `errors.<status>.<scopes>`;
 * one with reasons of this method is its own: `<Service.Method>.<status>`.
 */
export function errorResponses(op: OperationFacts, responses: Record<string, Json>): Record<string, Json> {
  const byStatus = new Map<number, [string, ReasonDoc][]>();
  for (const entry of reasonsOf(op)) {
    const status = entry[1].status ?? CONNECT_CODES[entry[1].code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), entry]);
  }
  const refs: Record<string, Json> = {};
  for (const [status, entries] of [...byStatus].sort(([a], [b]) => a - b)) {
    const own = entries.filter(([, d]) => typeof d.scope !== "string");
    const scopes = [...new Set(entries.flatMap(([, d]) => (typeof d.scope === "string" && d.scope !== "any" ? [d.scope] : [])))];
    const name = own.length > 0 ? `${op.name}.${status}` : ["errors", status, ...scopes].join(".");
    responses[name] ??= errorResponse(status, entries);
    refs[String(status)] = { $ref: `#/components/responses/${name}` };
  }
  refs.default = { $ref: "#/components/responses/connect.Error" };
  return refs;
}

function errorResponse(status: number, entries: readonly [string, ReasonDoc][]): Json {
  const codes = [...new Set(entries.map(([, d]) => d.code))];
  return {
    description: `${codes.map((c) => `\`${c}\``).join(" or ")}, reason one of:\n\n${reasonList(entries)}`,
    ...(status === 429 || status === 503 ? { headers: { "retry-after": { $ref: "#/components/headers/RetryAfter" } } } : {}),
    content: { "application/json": { schema: statusSchema(codes, entries.map(([r]) => r)) } },
  };
}

/** A connect.Error with one of `codes` and an ErrorInfo with one of `reasons`. */
function statusSchema(codes: readonly ConnectCode[], reasons: readonly string[]): Json {
  return {
    allOf: [ref("connect.Error")],
    required: ["code", "details"],
    properties: {
      code: { enum: [...codes] },
      details: {
        contains: {
          required: ["type", "debug"],
          properties: { type: { const: "google.rpc.ErrorInfo" }, debug: { required: ["reason"], properties: { reason: { enum: [...reasons] } } } },
        },
      },
    },
  };
}
