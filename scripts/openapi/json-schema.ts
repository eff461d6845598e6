/**
 * Messages and enums as JSON Schema (OpenAPI 3.1 is JSON Schema 2020-12), in
 * protobuf's canonical JSON mapping (https://protobuf.dev/programming-guides/json/):
 * lowerCamelCase names, 64-bit integers as decimal strings, enums by name,
 * bytes as base64, well-known types as their JSON forms, maps as objects, at
 * most one field of a oneof. Each message and enum is one component named by
 * its full name; comments become descriptions, protovalidate rules
 * constraints (validate-rules.ts). Messages refuse unknown properties, as the
 * service does.
 */
import type { DescEnum, DescField, DescMessage, DescOneof, Registry } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { commentOf, optionJson, splitExample, type Json } from "./proto-text.js";
import { applyFieldRules, scalarSchema } from "./validate-rules.js";

export interface SchemaBuilder {
  /** A `$ref` to the schema of a message or enum, which is added to the components with everything it uses. */
  ref(desc: DescMessage | DescEnum): Json;
  /** The components built so far, by name. */
  components(): Record<string, Json>;
}

const REF = "#/components/schemas/";

/** The JSON forms of the well-known types that are not plain messages. */
const WELL_KNOWN: Readonly<Record<string, Json>> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time", description: "RFC 3339 in UTC (`Z`) with 0, 3, 6 or 9 fractional digits, e.g. `2026-12-06T21:01:23.456Z`." },
  "google.protobuf.Duration": { type: "string", pattern: "^-?[0-9]+(\\.[0-9]{1,9})?s$", description: "Seconds with up to nine fractional digits and the suffix `s`, e.g. `900s`, `1.5s`." },
  "google.protobuf.FieldMask": { type: "string", description: "Field paths in lowerCamelCase, comma-separated, e.g. `displayName,tier`." },
  "google.protobuf.Struct": { type: "object", description: "Any JSON object." },
  "google.protobuf.Value": { description: "Any JSON value." },
  "google.protobuf.ListValue": { type: "array", description: "Any JSON array." },
  "google.protobuf.Any": {
    type: "object",
    description: "A message of any type: its fields, plus `@type` naming it (`type.googleapis.com/<full name>`).",
    required: ["@type"],
    properties: { "@type": { type: "string" } },
  },
};

export function createSchemaBuilder(registry: Registry): SchemaBuilder {
  const built = new Map<string, Json>();

  function ref(desc: DescMessage | DescEnum): Json {
    if (desc.typeName === "google.protobuf.NullValue") return { type: "null" };
    if (!built.has(desc.typeName)) {
      built.set(desc.typeName, {}); // taken, for types that contain themselves
      built.set(desc.typeName, desc.kind === "enum" ? enumSchema(desc) : messageSchema(desc));
    }
    return { $ref: REF + desc.typeName };
  }

  function messageSchema(m: DescMessage): Json {
    const known = WELL_KNOWN[m.typeName] ?? wrapperSchema(m);
    if (known) return known;
    const properties: Record<string, Json> = {};
    const required: string[] = [];
    for (const field of m.fields) {
      const { schema, isRequired } = fieldSchema(field);
      properties[field.jsonName] = schema;
      if (isRequired) required.push(field.jsonName);
    }
    const rules = optionJson(registry, m, "buf.validate.message");
    const celNotes = ((rules?.cel ?? []) as Json[]).map((c) => `Rule \`${String(c.id)}\`: ${String(c.message || c.expression)}.`);
    // At most one field of each oneof (exactly one when its rule says so).
    const groups = [
      ...m.oneofs.map((o) => ({ fields: o.fields.map((f) => f.jsonName), required: oneofRequired(o) })),
      ...((rules?.oneof ?? []) as Json[]).map((o) => ({
        fields: (o.fields as string[]).map((name) => m.fields.find((f) => f.name === name)?.jsonName ?? name),
        required: o.required === true,
      })),
    ];
    const oneofNotes = groups.map((g) => `${g.required ? "Exactly" : "At most"} one of ${g.fields.map((f) => `\`${f}\``).join(", ")}.`);
    const description = [splitExample(registry, m).description, ...oneofNotes, ...celNotes].filter(Boolean).join("\n\n");
    const constraints = groups.flatMap((g) => [
      ...(g.fields.length > 1 ? [{ not: { anyOf: pairs(g.fields).map((p) => ({ required: p })) } }] : []),
      ...(g.required ? [{ anyOf: g.fields.map((f) => ({ required: [f] })) }] : []),
    ]);
    return {
      type: "object",
      ...(description && { description }),
      properties,
      ...(required.length > 0 && { required }),
      additionalProperties: false,
      ...(constraints.length > 0 && { allOf: constraints }),
    };
  }

  function oneofRequired(o: DescOneof): boolean {
    return optionJson(registry, o, "buf.validate.oneof")?.required === true;
  }

  function fieldSchema(field: DescField): { schema: Json; isRequired: boolean } {
    let schema: Json;
    switch (field.fieldKind) {
      case "scalar":
        schema = scalarSchema(field.scalar);
        break;
      case "enum":
        schema = ref(field.enum);
        break;
      case "message":
        schema = ref(field.message);
        break;
      case "list":
        schema = { type: "array", items: field.listKind === "scalar" ? scalarSchema(field.scalar) : ref(field.listKind === "enum" ? field.enum : field.message) };
        break;
      case "map":
        schema = {
          type: "object",
          propertyNames: mapKeySchema(field.mapKey),
          additionalProperties: field.mapKind === "scalar" ? scalarSchema(field.scalar) : ref(field.mapKind === "enum" ? field.enum : field.message),
        };
        break;
    }
    const effect = applyFieldRules(field, optionJson(registry, field, "buf.validate.field"), schema);
    const description = [commentOf(field), ...effect.notes].filter(Boolean).join("\n\n");
    return {
      schema: { ...(description && { description }), ...schema, ...(field.deprecated && { deprecated: true }) },
      isRequired: effect.required,
    };
  }

  function enumSchema(e: DescEnum): Json {
    const values = e.values.map((v) => `- \`${v.name}\`${commentOf(v) ? `: ${commentOf(v).replace(/\s*\n\s*/g, " ")}` : ""}`);
    return { type: "string", description: [commentOf(e), values.join("\n")].filter(Boolean).join("\n\n"), enum: e.values.map((v) => v.name) };
  }

  return {
    ref,
    components: () => Object.fromEntries([...built].sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** google.protobuf.Int64Value & co: the JSON of the wrapped value. */
function wrapperSchema(m: DescMessage): Json | undefined {
  const value = m.fields[0];
  if (m.file.name !== "google/protobuf/wrappers.proto" || value?.fieldKind !== "scalar") return undefined;
  return { ...scalarSchema(value.scalar), description: "The wrapped value itself; absent when unset." };
}

/** Map keys are JSON object keys: strings, whatever the key type. */
function mapKeySchema(key: ScalarType): Json {
  if (key === ScalarType.BOOL) return { enum: ["true", "false"] };
  if (key === ScalarType.STRING) return { type: "string" };
  const unsigned = [ScalarType.UINT32, ScalarType.UINT64, ScalarType.FIXED32, ScalarType.FIXED64].includes(key);
  return { type: "string", pattern: unsigned ? "^[0-9]+$" : "^-?[0-9]+$" };
}

function pairs<T>(items: readonly T[]): T[][] {
  return items.flatMap((a, i) => items.slice(i + 1).map((b) => [a, b]));
}
