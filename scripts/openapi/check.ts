/**
 * Checks of gen/openapi/openapi.json, shared by `npm run check:openapi` and
 * the tests: the document is valid OpenAPI (@seriousme/openapi-schema-validator,
 * the OpenAPI Initiative's schemas), every schema in it compiles as JSON
 * Schema 2020-12 (ajv, strict: a misspelt keyword is an error), every $ref
 * resolves, operation ids are unique, and every operation has an example
 * request that its own schema accepts. `createSchemaValidator` validates messages against the
 * document's schemas (the contract test uses it for the service's answers).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { Json } from "./proto-text.js";

// ajv-formats is CommonJS: its default export is the module itself.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export const OPENAPI_FILE = fileURLToPath(new URL("../../gen/openapi/openapi.json", import.meta.url));

export type OpenApiDocument = Json & { paths: Record<string, Record<string, Json>>; components: Record<string, Record<string, Json>> };

export function loadOpenApi(file = OPENAPI_FILE): OpenApiDocument {
  return JSON.parse(readFileSync(file, "utf8")) as OpenApiDocument;
}

export interface SchemaValidator {
  /** The problems of `value` against `schema` (a schema of the document, or a `$ref` into it); empty when valid. */
  problems(schema: Json, value: unknown): string[];
}

/** Validates values against the document's schemas, with JSON Schema 2020-12 and its formats (date-time, uuid, email...). */
export function createSchemaValidator(doc: OpenApiDocument): SchemaValidator {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
  addFormats(ajv);
  // OpenAPI's own keywords in schemas, and our x- extensions: annotations.
  ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs", ...extensionKeys(doc.components.schemas)]);
  ajv.addSchema({ $id: "urn:openapi:document", $defs: rebase(doc.components.schemas) as Json });
  const compiled = new Map<string, ValidateFunction>();
  return {
    problems(schema, value) {
      const key = JSON.stringify(schema);
      let validate = compiled.get(key);
      if (!validate) compiled.set(key, (validate = ajv.compile(rebase(schema) as Json)));
      if (validate(value)) return [];
      return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`);
    },
  };
}

/** `#/components/schemas/X` → `urn:openapi:document#/$defs/X`, the schema ajv holds them in. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === "$ref" && typeof v === "string" ? v.replace("#/components/schemas/", "urn:openapi:document#/$defs/") : rebase(v)]),
  );
}

function extensionKeys(value: unknown, found = new Set<string>()): string[] {
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith("x-")) found.add(k);
      extensionKeys(v, found);
    }
  }
  return [...found];
}

/** Follows a `$ref` into the document (`#/components/...`). */
export function resolve(doc: OpenApiDocument, value: Json): Json {
  const ref = value.$ref;
  if (typeof ref !== "string") return value;
  const target = ref
    .replace(/^#\//, "")
    .split("/")
    .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  if (target === undefined) throw new Error(`${ref} does not resolve`);
  return target as Json;
}

/** The schema an operation documents for an answer of `status` (or its `default`). */
export function responseSchema(doc: OpenApiDocument, operation: Json, status: number): Json {
  const responses = operation.responses as Record<string, Json>;
  const response = resolve(doc, responses[String(status)] ?? responses.default);
  return ((response.content as Record<string, Json>)["application/json"]).schema as Json;
}

/** An operation's example request: the body's, or the GET's `message` parameter's. */
export function exampleRequest(doc: OpenApiDocument, operation: Json): unknown {
  const body = operation.requestBody as Json | undefined;
  if (body) return ((body.content as Record<string, Json>)["application/json"]).example;
  const message = (operation.parameters as Json[]).map((p) => resolve(doc, p)).find((p) => p.name === "message");
  return ((message?.content as Record<string, Json> | undefined)?.["application/json"])?.example;
}

export function requestSchema(doc: OpenApiDocument, operation: Json): Json {
  const body = operation.requestBody as Json | undefined;
  const content = body?.content ?? (operation.parameters as Json[]).map((p) => resolve(doc, p)).find((p) => p.name === "message")?.content;
  return ((content as Record<string, Json>)["application/json"]).schema as Json;
}

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Every operation of the document, in its order. */
export function operationsOf(doc: OpenApiDocument): { path: string; method: string; operation: Json }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ path, method, operation })),
  );
}

/** Everything wrong with the document; empty when it passes. */
export async function checkOpenApi(doc: OpenApiDocument): Promise<string[]> {
  const problems: string[] = [];
  const result = await new Validator().validate(structuredClone(doc));
  if (!result.valid) problems.push(`not valid OpenAPI ${String(doc.openapi)}: ${JSON.stringify(result.errors, null, 2)}`);
  problems.push(...danglingRefs(doc, doc));
  let schemas: SchemaValidator;
  try {
    schemas = createSchemaValidator(doc);
    for (const name of Object.keys(doc.components.schemas)) schemas.problems({ $ref: `#/components/schemas/${name}` }, null);
  } catch (err) {
    return [...problems, `a schema does not compile: ${String(err)}`];
  }
  const ids = operationsOf(doc).map((o) => o.operation.operationId);
  for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`operationId ${String(id)} is not unique`);
  for (const { path, method, operation } of operationsOf(doc)) {
    const example = exampleRequest(doc, operation);
    if (example === undefined) problems.push(`${method.toUpperCase()} ${path}: no example request`);
    else for (const p of schemas.problems(requestSchema(doc, operation), example)) problems.push(`${method.toUpperCase()} ${path}: the example ${p}`);
  }
  return problems;
}

function danglingRefs(doc: OpenApiDocument, value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => danglingRefs(doc, v));
  if (value === null || typeof value !== "object") return [];
  const own = (() => {
    const ref = (value as Json).$ref;
    if (typeof ref !== "string") return [];
    try {
      resolve(doc, value as Json);
      return [];
    } catch (err) {
      return [String((err as Error).message)];
    }
  })();
  return [...own, ...Object.values(value).flatMap((v) => danglingRefs(doc, v))];
}
