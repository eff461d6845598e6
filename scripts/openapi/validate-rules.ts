/**
 * protovalidate rules (`(buf.validate.field)`, third_party/proto/buf/validate/validate.proto)
 * as JSON Schema. Rules are read in their protobuf JSON form, so only the
 * rules that are set appear. What JSON Schema can say becomes keywords
 * (lengths, bounds, patterns, formats, item counts, allowed values); the rest
 * (ranges of 64-bit integers, which JSON carries as strings, of timestamps and
 * durations; CEL expressions) becomes a sentence of the field's description.
 * `required` says whether leaving the field out fails validation: an implicit
 * -presence field whose zero value breaks its rules (an empty UUID, a
 * quantity of 0) is as required as one marked `required`.
 */
import { ScalarType, type DescField, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { Json } from "./proto-text.js";

/** What the rules of one field add to its schema. */
export interface RuleEffect {
  readonly required: boolean;
  /** Rules the keywords do not carry, as sentences. */
  readonly notes: readonly string[];
}

type Rules = JsonObject;

const num = (v: JsonValue | undefined) => (v === undefined ? undefined : Number(v));
const list = (v: JsonValue | undefined) => (Array.isArray(v) ? v : []);

/** The string formats JSON Schema knows, by protovalidate rule. */
const STRING_FORMATS: Record<string, string> = {
  email: "email",
  hostname: "hostname",
  ipv4: "ipv4",
  ipv6: "ipv6",
  uri: "uri",
  uriRef: "uri-reference",
  uuid: "uuid",
};

/** Numeric rule sets by name; the 64-bit ones are strings in JSON. */
const NUMERIC = ["int32", "sint32", "sfixed32", "uint32", "fixed32", "int64", "sint64", "sfixed64", "uint64", "fixed64", "float", "double"];
const AS_STRING = new Set(["int64", "sint64", "sfixed64", "uint64", "fixed64"]);

/** Adds `rules` (a FieldRules in JSON) to `schema`, the field's schema without them. */
export function applyFieldRules(field: DescField, rules: Rules | undefined, schema: Json): RuleEffect {
  if (!rules || rules.ignore === "IGNORE_ALWAYS") return { required: false, notes: [] };
  const notes: string[] = [];
  let zeroFails = false;
  for (const cel of list(rules.cel) as Rules[]) notes.push(`Rule \`${String(cel.id ?? "cel")}\`: ${String(cel.message || cel.expression)}.`);

  if (field.fieldKind === "list" && rules.repeated) {
    const r = rules.repeated as Rules;
    if (r.minItems !== undefined) schema.minItems = num(r.minItems);
    if (r.maxItems !== undefined) schema.maxItems = num(r.maxItems);
    if (r.unique) schema.uniqueItems = true;
    if (r.items) notes.push(...applyValueRules(r.items as Rules, schema.items as Json, enumNames(field)).notes);
    zeroFails = (num(r.minItems) ?? 0) > 0;
  } else if (field.fieldKind === "map" && rules.map) {
    const r = rules.map as Rules;
    if (r.minPairs !== undefined) schema.minProperties = num(r.minPairs);
    if (r.maxPairs !== undefined) schema.maxProperties = num(r.maxPairs);
    if (r.keys) notes.push(...applyValueRules(r.keys as Rules, schema.propertyNames as Json).notes);
    if (r.values) notes.push(...applyValueRules(r.values as Rules, schema.additionalProperties as Json, enumNames(field)).notes);
    zeroFails = (num(r.minPairs) ?? 0) > 0;
  } else {
    const effect = applyValueRules(rules, schema, enumNames(field));
    notes.push(...effect.notes);
    zeroFails = effect.zeroFails;
  }
  const implicit = field.fieldKind === "list" || field.fieldKind === "map" || (field.presence === FeatureSet_FieldPresence.IMPLICIT && field.oneof === undefined);
  const ignoredWhenZero = rules.ignore === "IGNORE_IF_ZERO_VALUE";
  return { required: rules.required === true || (implicit && zeroFails && !ignoredWhenZero), notes };
}

/** The names of the field's enum (its items', its values'), by number; undefined when it is no enum. */
function enumNames(field: DescField): string[] | undefined {
  const e = field.fieldKind === "enum" ? field.enum : field.fieldKind === "list" && field.listKind === "enum" ? field.enum : field.fieldKind === "map" && field.mapKind === "enum" ? field.enum : undefined;
  return e?.values.map((v) => v.name);
}

/**
 * The rules of one value (a field's, or a list item's, a map key's or value's).
 * `enumNames` are the names of the field's enum, by number.
 */
function applyValueRules(rules: Rules, schema: Json, enumNames?: readonly string[]): { zeroFails: boolean; notes: string[] } {
  if (rules.string) return stringRules(rules.string as Rules, schema);
  if (rules.enum && enumNames) return enumRules(rules.enum as Rules, schema, enumNames);
  if (rules.bool) {
    const r = rules.bool as Rules;
    if (r.const !== undefined) schema.const = r.const;
    return { zeroFails: r.const === true, notes: [] };
  }
  for (const kind of NUMERIC) if (rules[kind]) return numericRules(rules[kind] as Rules, schema, AS_STRING.has(kind));
  for (const kind of ["timestamp", "duration"]) if (rules[kind]) return { zeroFails: false, notes: [rangeNote(rules[kind] as Rules)] };
  const other = Object.keys(rules).filter((k) => !["required", "ignore", "cel"].includes(k));
  return { zeroFails: false, notes: other.map((k) => `Also validated: \`${k}\` ${JSON.stringify(rules[k])}.`) };
}

function stringRules(r: Rules, schema: Json) {
  const notes: string[] = [];
  const len = num(r.len);
  if (len !== undefined) schema.minLength = schema.maxLength = len;
  if (r.minLen !== undefined) schema.minLength = num(r.minLen);
  if (r.maxLen !== undefined) schema.maxLength = num(r.maxLen);
  if (typeof r.pattern === "string") schema.pattern = r.pattern;
  if (r.const !== undefined) schema.const = r.const;
  if (r.in) schema.enum = r.in;
  if (r.notIn) schema.not = { enum: r.notIn };
  if (r.example) schema.examples = r.example;
  for (const [rule, format] of Object.entries(STRING_FORMATS)) if (r[rule] === true) schema.format = format;
  if (r.tuuid === true) schema.pattern = "^[0-9a-fA-F]{32}$";
  for (const k of ["prefix", "suffix", "contains", "notContains"] as const) if (r[k] !== undefined) notes.push(`${words(k)} ${JSON.stringify(r[k])}.`);
  for (const k of ["lenBytes", "minBytes", "maxBytes"] as const) if (r[k] !== undefined) notes.push(`${words(k)}: ${String(r[k])} bytes (UTF-8).`);
  const handled = new Set(["len", "minLen", "maxLen", "pattern", "const", "in", "notIn", "example", "tuuid", "prefix", "suffix", "contains", "notContains", "lenBytes", "minBytes", "maxBytes", "strict", ...Object.keys(STRING_FORMATS)]);
  for (const k of Object.keys(r)) if (!handled.has(k)) notes.push(`Validated as \`${k}\`.`);

  // Whether the empty string (an unset implicit-presence field) breaks the rules.
  const zeroFails =
    (num(r.len) ?? 0) > 0 ||
    (num(r.minLen) ?? 0) > 0 ||
    (num(r.minBytes) ?? 0) > 0 ||
    (num(r.lenBytes) ?? 0) > 0 ||
    (typeof r.pattern === "string" && !new RegExp(r.pattern).test("")) ||
    (r.const !== undefined && r.const !== "") ||
    (r.in !== undefined && !list(r.in).includes("")) ||
    list(r.notIn).includes("") ||
    [...Object.keys(STRING_FORMATS), "tuuid", "ip", "address", "hostAndPort", "ulid"].some((k) => r[k] === true) ||
    ["prefix", "suffix", "contains"].some((k) => typeof r[k] === "string" && r[k] !== "");
  return { zeroFails, notes };
}

function enumRules(r: Rules, schema: Json, names: readonly string[]) {
  const nameOf = (n: JsonValue) => names[Number(n)] ?? String(n);
  let allowed = [...names];
  if (r.const !== undefined) allowed = [nameOf(r.const)];
  if (r.in) allowed = list(r.in).map(nameOf);
  const excluded = new Set(list(r.notIn).map(nameOf));
  allowed = allowed.filter((n) => !excluded.has(n));
  if (allowed.length < names.length) schema.enum = allowed;
  return { zeroFails: !allowed.includes(names[0]), notes: [] };
}

/** Bounds, allowed and excluded values of a number; a 64-bit one is a string in JSON, so its bounds become a note. */
function numericRules(r: Rules, schema: Json, asString: boolean) {
  const notes: string[] = [];
  const lower = r.gt !== undefined ? { v: Number(r.gt), exclusive: true } : r.gte !== undefined ? { v: Number(r.gte), exclusive: false } : undefined;
  const upper = r.lt !== undefined ? { v: Number(r.lt), exclusive: true } : r.lte !== undefined ? { v: Number(r.lte), exclusive: false } : undefined;
  if (lower && upper && lower.v > upper.v) {
    notes.push(`Outside ${upper.v} ${upper.exclusive ? "≤" : "<"} value ${lower.exclusive ? "≤" : "<"} ${lower.v}.`);
  } else if (asString) {
    const bounds = [lower && `${lower.v} ${lower.exclusive ? "<" : "≤"}`, "value", upper && `${upper.exclusive ? "<" : "≤"} ${upper.v}`].filter(Boolean);
    if (lower || upper) notes.push(`Validated: ${bounds.join(" ")}.`);
    if (lower && lower.v >= (lower.exclusive ? -1 : 0)) schema.pattern = "^[0-9]+$";
  } else {
    if (lower) schema[lower.exclusive ? "exclusiveMinimum" : "minimum"] = lower.v;
    if (upper) schema[upper.exclusive ? "exclusiveMaximum" : "maximum"] = upper.v;
  }
  const value = (v: JsonValue) => (asString ? String(v) : Number(v));
  if (r.const !== undefined) schema.const = value(r.const);
  if (r.in) schema.enum = list(r.in).map(value);
  if (r.notIn) schema.not = { enum: list(r.notIn).map(value) };
  if (r.example) schema.examples = list(r.example).map(value);

  const zero = 0;
  const zeroFails =
    (lower !== undefined && (lower.exclusive ? zero <= lower.v : zero < lower.v)) ||
    (upper !== undefined && (upper.exclusive ? zero >= upper.v : zero > upper.v)) ||
    (r.const !== undefined && Number(r.const) !== zero) ||
    (r.in !== undefined && !list(r.in).some((v) => Number(v) === zero)) ||
    list(r.notIn).some((v) => Number(v) === zero);
  return { zeroFails, notes };
}

/** Bounds of a timestamp or duration (RFC 3339 strings, "1s" durations in JSON). */
function rangeNote(r: Rules): string {
  const parts = Object.keys(RANGE_WORDS)
    .filter((k) => r[k] !== undefined)
    .map((k) => `${RANGE_WORDS[k]} ${typeof r[k] === "string" ? r[k] : JSON.stringify(r[k])}`);
  return `Validated: ${parts.join(", ")}.`;
}

/** Timestamp and duration rules, lower bounds first. */
const RANGE_WORDS: Record<string, string> = { const: "exactly", gt: "after", gte: "from", lt: "before", lte: "up to", gtNow: "after now:", ltNow: "before now:", within: "within" };

/** "minBytes" → "Min bytes". */
const words = (camel: string) => camel.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`).replace(/^./, (c) => c.toUpperCase());

/** The JSON Schema of a scalar in protobuf's JSON mapping. */
export function scalarSchema(type: ScalarType): Json {
  switch (type) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", minimum: 0, maximum: 4294967295 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64", pattern: "^-?[0-9]+$" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", pattern: "^[0-9]+$" };
    case ScalarType.FLOAT:
    case ScalarType.DOUBLE:
      return { anyOf: [{ type: "number" }, { enum: ["NaN", "Infinity", "-Infinity"] }] };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
  }
}
