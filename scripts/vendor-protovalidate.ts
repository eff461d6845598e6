// Rebuilds buf/validate/validate.proto from the file descriptor embedded in
// @bufbuild/protovalidate, and writes it to third_party/proto (the buf
// registry is unreachable, so we cannot `buf dep update` it).
//
//   npx tsx scripts/vendor-protovalidate.ts           # (re)write the file
//   npx tsx scripts/vendor-protovalidate.ts --check   # verify, exit 1 on mismatch
//
// --check verifies that the vendored file is up to date with the generator, and
// that compiling it with `buf build` yields a FileDescriptorProto equal to the
// embedded one (compared semantically: extensions inside options are compared
// by value, so a different byte order of option fields does not matter).
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type DescExtension, type DescFile, type DescMessage, type Message, type Registry,
  createRegistry, equals, fromBinary, getExtension, isFieldSet, toBinary,
} from "@bufbuild/protobuf";
import { protoCamelCase, reflect } from "@bufbuild/protobuf/reflect";
import { toText } from "@bufbuild/protobuf/txtpb";
import {
  type DescriptorProto, type EnumDescriptorProto, type FieldDescriptorProto, type FileDescriptorProto,
  DescriptorProtoSchema, EnumOptionsSchema, EnumValueOptionsSchema, ExtensionRangeOptionsSchema,
  FieldDescriptorProtoSchema, FieldDescriptorProto_Label as Label, FieldDescriptorProto_Type as Type, FieldOptionsSchema,
  FileDescriptorProtoSchema, FileDescriptorSetSchema, FileOptionsSchema, MessageOptionsSchema, OneofOptionsSchema,
} from "@bufbuild/protobuf/wkt";

const PROTO_NAME = "buf/validate/validate.proto";
const OUT_FILE = join(process.cwd(), "third_party/proto", PROTO_NAME);
const MAX_FIELD_NUMBER = 536870911;

// ---------------------------------------------------------------- loading

/** The embedded GenFile is not exported by the package, so import it by path. */
async function loadEmbedded(): Promise<{ file: DescFile; version: string; license: string }> {
  const entry = import.meta.resolve("@bufbuild/protovalidate"); // .../dist/esm/index.js
  const pbUrl = new URL("./gen/buf/validate/validate_pb.js", entry);
  const { file_buf_validate_validate: file } = (await import(pbUrl.href)) as { file_buf_validate_validate: DescFile };
  const pkgJson = JSON.parse(readFileSync(new URL("../../package.json", entry), "utf8")) as { version: string };
  const pbSource = readFileSync(fileURLToPath(pbUrl), "utf8");
  const license = pbSource.split("\n").filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith("//")));
  return { file, version: pkgJson.version, license: license.join("\n") };
}

// ---------------------------------------------------------------- names and literals

/** Quote a string for .proto source (same escaping rules as the text format). */
function quote(s: string): string {
  const esc: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  return '"' + [...s].map((c) => esc[c] ?? (c < " " || c === "\x7f" ? "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0") : c)).join("") + '"';
}

/** Builds the shortest name that resolves to `fullName` from `scope`, per protobuf scoping rules. */
function makeNamer(fp: FileDescriptorProto) {
  const symbols = new Set<string>();
  const addPkg = (pkg: string) => pkg.split(".").forEach((_, i, p) => symbols.add(p.slice(0, i + 1).join(".")));
  const walk = (prefix: string, m: DescriptorProto) => {
    const n = `${prefix}.${m.name}`;
    symbols.add(n);
    m.field.concat(m.extension).forEach((f) => symbols.add(`${n}.${f.name}`));
    m.enumType.forEach((e) => symbols.add(`${n}.${e.name}`));
    m.nestedType.forEach((c) => walk(n, c));
  };
  addPkg(fp.package);
  fp.messageType.forEach((m) => walk(fp.package, m));
  fp.enumType.forEach((e) => symbols.add(`${fp.package}.${e.name}`));
  fp.extension.forEach((e) => symbols.add(`${fp.package}.${e.name}`));
  return (fullName: string, scope: string): string => {
    const target = fullName.replace(/^\./, "");
    if (!target.startsWith(fp.package + ".")) addPkg(target.split(".").slice(0, -1).join("."));
    const parts = target.split(".");
    for (let k = parts.length - 1; k >= 1; k--) {
      const candidate = parts.slice(k).join(".");
      if (resolve(candidate, scope) === target) return candidate;
    }
    return target;
  };
  function resolve(name: string, scope: string): string | undefined {
    const [first, ...rest] = name.split(".");
    for (let s = scope; ; s = s.includes(".") ? s.slice(0, s.lastIndexOf(".")) : "") {
      const hit = s ? `${s}.${first}` : first;
      if (symbols.has(hit)) return [hit, ...rest].join(".");
      if (!s) return undefined;
    }
  }
}

// ---------------------------------------------------------------- options

/** Render a value of an option field (scalar, enum or message) as .proto source. */
function optionValue(value: unknown, kind: { fieldKind: string; enum?: { value: Record<number, { name: string }> }; message?: DescMessage }, reg: Registry, indent: string): string {
  if (kind.message) {
    const body = toText(kind.message, value as Message, { registry: reg }).trimEnd();
    return body ? "{\n" + body.replace(/^/gm, indent + "  ") + "\n" + indent + "}" : "{}";
  }
  if (kind.enum) return kind.enum.value[value as number]?.name ?? String(value);
  if (typeof value === "string") return quote(value);
  if (value instanceof Uint8Array) return '"' + [...value].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : "\\x" + b.toString(16).padStart(2, "0"))).join("") + '"';
  return Number.isNaN(value) ? "nan" : value === Infinity ? "inf" : value === -Infinity ? "-inf" : String(value);
}

/** All options set on an options message, as `name = value` strings, in wire order. */
function optionEntries(schema: DescMessage, opts: Message | undefined, reg: Registry, ctx: { scope: string; namer: ReturnType<typeof makeNamer>; indent: string }): string[] {
  if (!opts) return [];
  const msg = reflect(schema, opts);
  const out: string[] = [];
  const push = (name: string, v: unknown, k: Parameters<typeof optionValue>[1]) => out.push(`${name} = ${optionValue(v, k, reg, ctx.indent)}`);
  for (const f of msg.fields) {
    if (!msg.isSet(f)) continue;
    if (f.fieldKind === "list") for (const item of msg.get(f)) push(f.name, item instanceof Object && "message" in item ? item.message : item, { fieldKind: f.listKind, enum: f.enum, message: f.message });
    else if (f.fieldKind === "message") push(f.name, msg.get(f).message, f);
    else if (f.fieldKind !== "map") push(f.name, msg.get(f), f);
  }
  const seen = new Set<number>();
  for (const u of msg.getUnknown() ?? []) {
    if (seen.has(u.no)) continue;
    seen.add(u.no);
    const ext: DescExtension | undefined = reg.getExtensionFor(schema, u.no);
    if (!ext) throw new Error(`unknown option field ${u.no} in ${schema.typeName} (scope ${ctx.scope})`);
    const name = `(${ctx.namer(ext.typeName, ctx.scope)})`;
    const value = getExtension(opts, ext) as unknown;
    const kind = { fieldKind: ext.fieldKind, enum: ext.enum, message: ext.message };
    if (ext.fieldKind === "list") for (const item of value as unknown[]) push(name, item, { ...kind, fieldKind: ext.listKind });
    else push(name, value, kind);
  }
  return out;
}

/** `[a = 1, b = 2]` suffix for fields, enum values and extension ranges. */
function bracket(entries: string[]): string {
  return entries.length ? ` [${entries.join(", ")}]` : "";
}

// ---------------------------------------------------------------- declarations

type Ctx = { fp: FileDescriptorProto; reg: Registry; namer: ReturnType<typeof makeNamer>; syntax: string };

const SCALARS: Partial<Record<Type, string>> = {
  [Type.DOUBLE]: "double", [Type.FLOAT]: "float", [Type.INT64]: "int64", [Type.UINT64]: "uint64",
  [Type.INT32]: "int32", [Type.FIXED64]: "fixed64", [Type.FIXED32]: "fixed32", [Type.BOOL]: "bool",
  [Type.STRING]: "string", [Type.BYTES]: "bytes", [Type.UINT32]: "uint32", [Type.SFIXED32]: "sfixed32",
  [Type.SFIXED64]: "sfixed64", [Type.SINT32]: "sint32", [Type.SINT64]: "sint64",
};

function fieldType(f: FieldDescriptorProto, scope: string, ctx: Ctx, parent?: DescriptorProto): string {
  if (f.type === Type.GROUP) throw new Error(`groups are not supported (${scope}.${f.name})`);
  const entry = parent?.nestedType.find((n) => `.${scope}.${n.name}` === f.typeName && n.options?.mapEntry);
  if (entry) return `map<${fieldType(entry.field[0], scope, ctx)}, ${fieldType(entry.field[1], scope, ctx)}>`;
  return SCALARS[f.type] ?? ctx.namer(f.typeName, scope);
}

function defaultValue(f: FieldDescriptorProto): string {
  if (f.type === Type.STRING) return quote(f.defaultValue);
  if (f.type === Type.BYTES) return `"${f.defaultValue}"`; // already C-escaped in the descriptor
  return f.defaultValue;
}

/** Index of the oneof containing `f`, if any (unset proto2 fields read as 0, so check presence). */
function oneofOf(f: FieldDescriptorProto): number | undefined {
  return isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) ? f.oneofIndex : undefined;
}

function fieldLine(f: FieldDescriptorProto, scope: string, ctx: Ctx, indent: string, parent?: DescriptorProto): string {
  const inOneof = oneofOf(f) !== undefined && !f.proto3Optional && parent;
  const isMap = parent?.nestedType.some((n) => `.${scope}.${n.name}` === f.typeName && n.options?.mapEntry);
  let label = "";
  if (f.label === Label.REPEATED && !isMap) label = "repeated ";
  else if (!inOneof && !isMap && ctx.syntax === "proto2") label = f.label === Label.REQUIRED ? "required " : "optional ";
  else if (f.proto3Optional) label = "optional ";
  const opts: string[] = [];
  if (isFieldSet(f, FieldDescriptorProtoSchema.field.defaultValue)) opts.push(`default = ${defaultValue(f)}`);
  if (f.jsonName && f.jsonName !== protoCamelCase(f.name)) opts.push(`json_name = ${quote(f.jsonName)}`);
  opts.push(...optionEntries(FieldOptionsSchema, f.options, ctx.reg, { scope, namer: ctx.namer, indent }));
  return `${indent}${label}${fieldType(f, scope, ctx, parent)} ${f.name} = ${f.number}${bracket(opts)};`;
}

function optionLines(entries: string[], indent: string): string[] {
  return entries.map((e) => `${indent}option ${e};`);
}

function reservedLines(ranges: { start: number; end: number }[], names: string[], inclusive: boolean, indent: string): string[] {
  const out: string[] = [];
  const hi = (r: { end: number }) => (inclusive ? r.end : r.end - 1);
  const rng = ranges.map((r) => (hi(r) === r.start ? `${r.start}` : `${r.start} to ${hi(r) === MAX_FIELD_NUMBER || hi(r) === 2147483647 ? "max" : hi(r)}`));
  if (rng.length) out.push(`${indent}reserved ${rng.join(", ")};`);
  if (names.length) out.push(`${indent}reserved ${names.map(quote).join(", ")};`);
  return out;
}

function enumLines(e: EnumDescriptorProto, scope: string, ctx: Ctx, indent: string): string[] {
  const s = `${scope}.${e.name}`;
  const inner = indent + "  ";
  const o = { scope: s, namer: ctx.namer, indent: inner };
  return [
    `${indent}enum ${e.name} {`,
    ...optionLines(optionEntries(EnumOptionsSchema, e.options, ctx.reg, o), inner),
    ...e.value.map((v) => `${inner}${v.name} = ${v.number}${bracket(optionEntries(EnumValueOptionsSchema, v.options, ctx.reg, o))};`),
    ...reservedLines(e.reservedRange, e.reservedName, true, inner),
    `${indent}}`,
  ];
}

function extendLines(exts: FieldDescriptorProto[], scope: string, ctx: Ctx, indent: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < exts.length; ) {
    const group = exts.slice(i).filter((e, k, all) => all.slice(0, k + 1).every((x) => x.extendee === exts[i].extendee));
    out.push(`${indent}extend ${ctx.namer(exts[i].extendee, scope)} {`, ...group.map((f) => fieldLine(f, scope, ctx, indent + "  ")), `${indent}}`);
    i += group.length;
  }
  return out;
}

function messageLines(m: DescriptorProto, scope: string, ctx: Ctx, indent: string): string[] {
  const s = `${scope}.${m.name}`;
  const inner = indent + "  ";
  const o = { scope: s, namer: ctx.namer, indent: inner };
  const out = [`${indent}message ${m.name} {`, ...optionLines(optionEntries(MessageOptionsSchema, m.options, ctx.reg, o), inner)];
  const emittedOneofs = new Set<number>();
  m.field.forEach((f, i) => {
    const oi = oneofOf(f);
    if (oi === undefined || f.proto3Optional) return void out.push(fieldLine(f, s, ctx, inner, m));
    if (emittedOneofs.has(oi)) {
      if (oneofOf(m.field[i - 1]) !== oi) throw new Error(`oneof ${s}.${m.oneofDecl[oi].name} is not contiguous`);
      return;
    }
    emittedOneofs.add(oi);
    const decl = m.oneofDecl[oi];
    out.push(`${inner}oneof ${decl.name} {`, ...optionLines(optionEntries(OneofOptionsSchema, decl.options, ctx.reg, { ...o, indent: inner + "  " }), inner + "  "));
    out.push(...m.field.filter((x) => oneofOf(x) === oi).map((x) => fieldLine(x, s, ctx, inner + "  ", m)), `${inner}}`);
  });
  if (emittedOneofs.size !== m.oneofDecl.filter((_, i) => !m.field.some((f) => oneofOf(f) === i && f.proto3Optional)).length) throw new Error(`empty oneof in ${s}`);
  for (const r of m.extensionRange) {
    const hi = r.end - 1 === MAX_FIELD_NUMBER ? "max" : `${r.end - 1}`;
    const range = hi === `${r.start}` ? hi : `${r.start} to ${hi}`;
    out.push(`${inner}extensions ${range}${bracket(optionEntries(ExtensionRangeOptionsSchema, r.options, ctx.reg, o))};`);
  }
  out.push(...reservedLines(m.reservedRange, m.reservedName, false, inner));
  for (const n of m.nestedType) if (!n.options?.mapEntry) out.push(...messageLines(n, s, ctx, inner));
  for (const e of m.enumType) out.push(...enumLines(e, s, ctx, inner));
  out.push(...extendLines(m.extension, s, ctx, inner), `${indent}}`);
  return out;
}

// ---------------------------------------------------------------- file

function renderFile(file: DescFile, version: string, license: string): string {
  const fp = file.proto;
  if (fp.service.length) throw new Error("services are not supported");
  if (fp.edition !== 0 && fp.syntax === "editions") throw new Error("editions files are not supported");
  const syntax = fp.syntax || "proto2";
  const ctx: Ctx = { fp, reg: createRegistry(file), namer: makeNamer(fp), syntax };
  const o = { scope: fp.package, namer: ctx.namer, indent: "" };
  const imports = fp.dependency.map((d, i) => `import ${fp.publicDependency.includes(i) ? "public " : fp.weakDependency.includes(i) ? "weak " : ""}${quote(d)};`);
  const blocks: string[][] = [
    [license, "", `// GENERATED FILE - DO NOT EDIT. Reconstructed from the file descriptor embedded in`,
      `// @bufbuild/protovalidate@${version} (dist/esm/gen/buf/validate/validate_pb.js)`,
      `// by scripts/vendor-protovalidate.ts. Comments of the original file are not`,
      `// preserved. Regenerate with \`npm run vendor:protovalidate\`.`],
    [`syntax = ${quote(syntax)};`],
    [`package ${fp.package};`],
    imports,
    optionLines(optionEntries(FileOptionsSchema, fp.options, ctx.reg, o), ""),
    extendLines(fp.extension, fp.package, ctx, ""),
    ...fp.messageType.map((m) => messageLines(m, fp.package, ctx, "")),
    ...fp.enumType.map((e) => enumLines(e, fp.package, ctx, "")),
  ];
  return blocks.filter((b) => b.length).map((b) => b.join("\n")).join("\n\n") + "\n";
}

// ---------------------------------------------------------------- check

/** Compile `source` with buf and return the resulting FileDescriptorProto. */
function buildWithBuf(source: string): FileDescriptorProto {
  const dir = mkdtempSync(join(tmpdir(), "vendor-protovalidate-"));
  try {
    mkdirSync(join(dir, "src", dirname(PROTO_NAME)), { recursive: true });
    writeFileSync(join(dir, "src", "buf.yaml"), "version: v2\n");
    writeFileSync(join(dir, "src", PROTO_NAME), source);
    const out = join(dir, "out.binpb");
    execFileSync("npx", ["buf", "build", join(dir, "src"), "-o", out, "--exclude-source-info", "--as-file-descriptor-set"], { stdio: ["ignore", "ignore", "pipe"] });
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(out));
    const built = set.file.find((f) => f.name === PROTO_NAME);
    if (!built) throw new Error(`${PROTO_NAME} missing from buf build output`);
    return built;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function check(file: DescFile, expected: string): boolean {
  let onDisk = "";
  try { onDisk = readFileSync(OUT_FILE, "utf8"); } catch { /* reported below */ }
  if (onDisk !== expected) {
    console.error(`FAIL: ${OUT_FILE} is missing or stale; run \`npm run vendor:protovalidate\``);
    return false;
  }
  const built = buildWithBuf(onDisk);
  const embedded = file.proto;
  const opts = { registry: createRegistry(file), extensions: true, unknown: true };
  if (!equals(FileDescriptorProtoSchema, built, embedded, opts)) {
    const dump = (p: FileDescriptorProto) => toText(FileDescriptorProtoSchema, p, { registry: opts.registry }).split("\n");
    const [a, b] = [dump(embedded), dump(built)];
    const i = a.findIndex((l, k) => l !== b[k]);
    console.error(i < 0
      ? "FAIL: buf-built descriptor differs from the embedded one in unknown (non-extension) fields"
      : `FAIL: buf-built descriptor differs from the embedded one at text line ${i + 1}:\n  embedded: ${a[i]}\n  built:    ${b[i]}`);
    return false;
  }
  const sameBytes = Buffer.from(toBinary(FileDescriptorProtoSchema, built)).equals(Buffer.from(toBinary(FileDescriptorProtoSchema, embedded)));
  console.log(`OK: ${PROTO_NAME} compiles to a descriptor equal to the embedded one (${sameBytes ? "byte-identical" : "semantically equal; option bytes ordered differently"})`);
  return true;
}

async function main(): Promise<void> {
  const { file, version, license } = await loadEmbedded();
  const source = renderFile(file, version, license);
  if (process.argv.includes("--check")) {
    process.exitCode = check(file, source) ? 0 : 1;
    return;
  }
  mkdirSync(dirname(OUT_FILE), { recursive: true });
  writeFileSync(OUT_FILE, source);
  console.log(`wrote ${OUT_FILE}`);
}

await main();
