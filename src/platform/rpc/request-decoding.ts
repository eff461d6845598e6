/**
 * Decoding request messages, the same strict way on every path (grpc-js,
 * the Connect fast path, connect-node via connect-adapter.ts):
 *
 * - Binary: protobuf-es (which already refuses invalid UTF-8 in strings).
 * - JSON: unknown fields and unknown enum names are errors, not silently
 *   dropped (a filter that lost its value would widen a query), and the text
 *   must be valid UTF-8 (a fatal decoder instead of U+FFFD replacement).
 *
 * A request that does not decode is INVALID_ARGUMENT with an ErrorInfo:
 * reason INVALID_REQUEST with a BadRequest naming the field when the problem
 * is one field's value or name, MALFORMED_REQUEST when the bytes are not a
 * message at all. Never INTERNAL: it is the caller's mistake.
 */
import {
  fromBinary,
  fromJsonString,
  type DescField,
  type DescMessage,
  type JsonReadOptions,
  type MessageShape,
} from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { ERROR_DOMAIN } from "./rpc-errors.js";

/** JSON reading as every path does it: strict about field names and enum values. */
export const JSON_READ_OPTIONS: Partial<JsonReadOptions> = { ignoreUnknownFields: false };

/** UTF-8 decoding that fails on invalid bytes (TextDecoder's default replaces them). */
export const STRICT_TEXT_DECODER = new TextDecoder("utf-8", { fatal: true });

/** connect's jsonOptions for the router: the same strictness as decodeRequest. */
export const CONNECT_JSON_OPTIONS = { ...JSON_READ_OPTIONS, textDecoder: STRICT_TEXT_DECODER };

/** Messages longer than this are cut in error texts (they may quote the input). */
const MAX_MESSAGE = 300;

export function invalidRequest(message: string, field?: { path: string; description: string }): ConnectError {
  const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    { desc: ErrorInfoSchema, value: { reason: field ? "INVALID_REQUEST" : "MALFORMED_REQUEST", domain: ERROR_DOMAIN } },
  ];
  if (field) details.push({ desc: BadRequestSchema, value: { fieldViolations: [{ field: field.path, description: field.description }] } });
  return new ConnectError(text, Code.InvalidArgument, undefined, details);
}

/** The request message in `bytes`, or an INVALID_ARGUMENT ConnectError. */
export function decodeRequest<D extends DescMessage>(schema: D, bytes: Uint8Array, binary: boolean): MessageShape<D> {
  if (binary) {
    try {
      return fromBinary(schema, bytes);
    } catch (e) {
      throw invalidRequest(`request message could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  let text: string;
  try {
    text = STRICT_TEXT_DECODER.decode(bytes);
  } catch {
    throw invalidRequest("request body is not valid UTF-8");
  }
  try {
    return fromJsonString(schema, text, JSON_READ_OPTIONS);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw invalidRequest(message, locateJsonProblem(schema, text) ?? namedField(message));
  }
}

/** protobuf-es names the field it could not decode ("cannot decode field pkg.Msg.field from JSON: …"). */
function namedField(message: string): { path: string; description: string } | undefined {
  const m = /^cannot decode field [\w.]+\.(\w+) from JSON: (.*)$/s.exec(message);
  return m ? { path: m[1], description: m[2].slice(0, 200) } : undefined;
}

/**
 * Which field of a JSON request protobuf-es refused, for the BadRequest:
 * an unknown key, or an enum value that names no value. Undefined when it
 * cannot tell (the error then has no field violation).
 */
export function locateJsonProblem(schema: DescMessage, text: string): { path: string; description: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return walk(schema, value, "");
}

function walk(schema: DescMessage, value: unknown, prefix: string): { path: string; description: string } | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value) || schema.typeName.startsWith("google.protobuf.")) {
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    const field = schema.fields.find((f) => f.jsonName === key || f.name === key);
    const path = prefix + (field?.name ?? key);
    if (!field) return { path, description: `unknown field "${key}" of ${schema.typeName}` };
    const problem = checkField(field, v, path);
    if (problem) return problem;
  }
  return undefined;
}

function checkField(field: DescField, v: unknown, path: string): { path: string; description: string } | undefined {
  if (v === null) return undefined;
  if (field.fieldKind === "list" && Array.isArray(v)) {
    for (const [i, item] of v.entries()) {
      const problem = checkValue(field, item, `${path}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (field.fieldKind === "map") return undefined;
  return checkValue(field, v, path);
}

function checkValue(field: DescField, v: unknown, path: string): { path: string; description: string } | undefined {
  const enumType = field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum") ? field.enum : undefined;
  if (enumType) {
    const known = typeof v === "number" || (typeof v === "string" && enumType.values.some((e) => e.name === v));
    return known ? undefined : { path, description: `unknown value ${JSON.stringify(v).slice(0, 80)} of ${enumType.typeName}` };
  }
  const messageType = field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message") ? field.message : undefined;
  return messageType ? walk(messageType, v, `${path}.`) : undefined;
}

/** `err` with an ErrorInfo of `reason` when it has none (errors the protocol layers raise carry no details). */
export function withReason(err: ConnectError, reason: string): ConnectError {
  if (err.findDetails(ErrorInfoSchema).length > 0) return err;
  return copy(err, err.code, [{ desc: ErrorInfoSchema, value: { reason, domain: ERROR_DOMAIN } }]);
}

/** `err` with another code and some details first. */
function copy(err: ConnectError, code: Code, first: ConstructorParameters<typeof ConnectError>[3] = []): ConnectError {
  const out = new ConnectError(err.rawMessage, code, err.metadata, first);
  out.details.push(...err.details);
  return out;
}

/** The stable reason of an error a protocol layer raised while reading a request, by its code. */
export function protocolReason(code: Code): string {
  switch (code) {
    case Code.ResourceExhausted:
      return "MESSAGE_TOO_LARGE";
    case Code.Unimplemented:
      return "UNSUPPORTED";
    case Code.DeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case Code.Canceled:
      return "CANCELLED";
    default:
      return "MALFORMED_REQUEST";
  }
}

/**
 * Any failure to read a request (framing, size, compression, timeout header,
 * message) as the caller's error: INVALID_ARGUMENT where a protocol layer
 * said INTERNAL or gave no ConnectError, with an ErrorInfo in every case.
 */
export function requestReadError(e: unknown): ConnectError {
  const ce = e instanceof ConnectError ? e : new ConnectError(e instanceof Error ? e.message : String(e), Code.InvalidArgument);
  const code = ce.code === Code.Internal || ce.code === Code.Unknown ? Code.InvalidArgument : ce.code;
  const fixed = code === ce.code ? ce : copy(ce, code);
  return withReason(fixed, protocolReason(code));
}
