/**
 * protoc-gen-openapi: a buf plugin that writes the OpenAPI 3.1 document of
 * the Connect JSON API (openapi/openapi.json under its `out`) from every
 * service in the files it is given. buf.gen.yaml runs it with `npm run
 * generate` (strategy `all`: one document for all files); `npm run
 * check:gen` fails when gen/openapi/ is stale, `npm run check:openapi`
 * validates the document. The pieces are in scripts/openapi/.
 */
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { CodeGeneratorResponse_Feature, CodeGeneratorResponseSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { runNodeJs } from "@bufbuild/protoplugin";
import { buildOpenApiDocument } from "./openapi/document.js";

runNodeJs({
  name: "protoc-gen-openapi",
  version: "v1",
  run(request) {
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: request.protoFile }));
    const files = request.fileToGenerate.map((name) => {
      const file = registry.getFile(name);
      if (!file) throw new Error(`${name} is not in the request`);
      return file;
    });
    const document = buildOpenApiDocument(registry, files);
    return create(CodeGeneratorResponseSchema, {
      supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
      file: [{ name: "openapi/openapi.json", content: `${formatJson(document, "")}\n` }],
    });
  },
});

/** JSON indented by two spaces, but an object or array that fits in 120 columns stays on one line. */
function formatJson(value: unknown, indent: string): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((v) => formatJson(v, inner))
    : Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${JSON.stringify(k)}: ${formatJson(v, inner)}`);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (items.length === 0) return open + close;
  const line = Array.isArray(value) ? `[${items.join(", ")}]` : `{ ${items.join(", ")} }`;
  if (!line.includes("\n") && indent.length + line.length <= 120) return line;
  return `${open}\n${items.map((item) => inner + item).join(",\n")}\n${indent}${close}`;
}
