/**
 * Keeps bench/ghz/*.json from rotting: asks the running service for its
 * schema over gRPC server reflection (grpc.reflection.v1, as ghz does), then
 * checks that every config names an existing method, uses no proto files,
 * carries no credentials, and that its data — with ghz's template actions
 * evaluated the way ghz would — parses as the method's input message
 * (unknown fields fail).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, fromBinary, fromJson, type FileRegistry, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { createRequire } from "node:module";
import { bearer } from "./scenarios.js";

export const GHZ_DIR = fileURLToPath(new URL("../ghz", import.meta.url));

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionStream = grpc.ClientDuplexStream<object, ReflectionResponse>;

function reflectionClient(target: string) {
  const require = createRequire(import.meta.url);
  const protoPath = require.resolve("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto");
  const def = protoLoader.loadSync(protoPath, { keepCase: false, longs: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  return new pkg.grpc.reflection.v1.ServerReflection(target, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    ServerReflectionInfo(): ReflectionStream;
  };
}

/** One request/response exchange on a reflection stream. */
function ask(stream: ReflectionStream, req: object): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    const onData = (res: ReflectionResponse) => {
      stream.off("error", onError);
      resolve(res);
    };
    const onError = (err: Error) => {
      stream.off("data", onData);
      reject(err);
    };
    stream.once("data", onData);
    stream.once("error", onError);
    stream.write(req);
  });
}

function missingDeps(files: Map<string, FileDescriptorProto>): string[] {
  const missing = new Set<string>();
  for (const fd of files.values()) for (const dep of fd.dependency) if (!files.has(dep)) missing.add(dep);
  return [...missing];
}

export interface ReflectedSchema {
  readonly services: string[];
  readonly registry: FileRegistry;
}

/** The services and a registry of every file the server reflects. */
export async function reflect(target: string): Promise<ReflectedSchema> {
  const client = reflectionClient(target);
  const stream = client.ServerReflectionInfo();
  try {
    const list = await ask(stream, { listServices: "" });
    const services = (list.listServicesResponse?.service ?? []).map((s) => s.name);
    const files = new Map<string, FileDescriptorProto>();
    const add = async (req: object, what: string) => {
      const res = await ask(stream, req);
      if (res.errorResponse) throw new Error(`reflection: ${what}: ${res.errorResponse.errorMessage}`);
      for (const bytes of res.fileDescriptorResponse?.fileDescriptorProto ?? []) {
        const fd = fromBinary(FileDescriptorProtoSchema, bytes);
        files.set(fd.name, fd);
      }
    };
    for (const symbol of services) await add({ fileContainingSymbol: symbol }, symbol);
    // Fetch, by name, whatever the answers depend on but did not include.
    for (let missing = missingDeps(files); missing.length > 0; missing = missingDeps(files)) {
      for (const name of missing) await add({ fileByFilename: name }, name);
    }
    // A FileDescriptorSet must list every file after its dependencies.
    const ordered: FileDescriptorProto[] = [];
    const visit = (fd: FileDescriptorProto) => {
      if (ordered.includes(fd)) return;
      for (const dep of fd.dependency) visit(files.get(dep)!);
      ordered.push(fd);
    };
    files.forEach(visit);
    const set = create(FileDescriptorSetSchema, { file: ordered });
    return { services, registry: createFileRegistry(set) };
  } finally {
    stream.end();
    client.close();
  }
}

/**
 * Evaluates the ghz template actions the configs use — {{newUUID}},
 * {{randomString n}}, {{randomInt a b}}, {{printf `fmt` (randomInt a b)}} and
 * call-data fields like {{.RequestNumber}} — with ghz's semantics. Anything
 * else throws, so a config cannot use what this check does not understand.
 */
export function renderGhzTemplate(
  text: string,
  requestNumber = 1,
  randomInt = (a: number, b: number) => a + Math.floor(Math.random() * (b - a)), // [a, b), as ghz
): string {
  const fields: Record<string, string> = {
    RequestNumber: String(requestNumber),
    WorkerID: "g1c0",
    UUID: crypto.randomUUID(),
    TimestampUnix: String(Math.floor(Date.now() / 1000)),
    TimestampUnixMilli: String(Date.now()),
  };
  return text.replace(/\{\{\s*(.*?)\s*\}\}/g, (_, action: string) => {
    let m: RegExpExecArray | null;
    if (action === "newUUID") return crypto.randomUUID();
    if ((m = /^\.(\w+)$/.exec(action)) && m[1] in fields) return fields[m[1]];
    if ((m = /^randomString (\d+)$/.exec(action))) return "x".repeat(Math.max(2, Number(m[1])));
    if ((m = /^randomInt (\d+) (\d+)$/.exec(action))) return String(randomInt(Number(m[1]), Number(m[2])));
    if ((m = /^printf `([^`]*)` \(randomInt (\d+) (\d+)\)$/.exec(action))) {
      const n = randomInt(Number(m[2]), Number(m[3]));
      return m[1].replace(/%0(\d+)d/, (_s, w: string) => String(n).padStart(Number(w), "0"));
    }
    throw new Error(`unsupported ghz template action {{${action}}}`);
  });
}

export interface GhzConfigCheck {
  readonly file: string;
  readonly call: string;
  readonly input: string;
}

/** Checks every bench/ghz/*.json against the reflected schema; throws listing every problem. */
export function checkGhzConfigs(schema: ReflectedSchema, dir = GHZ_DIR): GhzConfigCheck[] {
  const problems: string[] = [];
  const checked: GhzConfigCheck[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const config = JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>;
    if ("proto" in config || "protoset" in config) problems.push(`${file}: uses proto files; configs must rely on reflection`);
    if (JSON.stringify(config.metadata ?? {}).toLowerCase().includes("authorization")) {
      problems.push(`${file}: carries an authorization header; tokens are given at run time (ghz --metadata), never committed`);
    }
    const call = String(config.call ?? "");
    const m = /^(.+)[./]([^./]+)$/.exec(call);
    const service = m ? schema.registry.getService(m[1]) : undefined;
    if (!m || !service || !schema.services.includes(m[1])) {
      problems.push(`${file}: service of "${call}" is not served (served: ${schema.services.join(", ")})`);
      continue;
    }
    const method = service.methods.find((x) => x.name === m[2]);
    if (!method) {
      problems.push(`${file}: ${m[1]} has no method ${m[2]}`);
      continue;
    }
    try {
      for (let i = 1; i <= 3; i++) {
        const data = JSON.parse(renderGhzTemplate(JSON.stringify(config.data ?? {}), i)) as JsonValue;
        fromJson(method.input, data, { registry: schema.registry });
      }
      checked.push({ file, call, input: method.input.typeName });
    } catch (err) {
      problems.push(`${file}: data is not a valid ${method.input.typeName}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new Error(`ghz configs do not match the reflected schema:\n  ${problems.join("\n  ")}`);
  return checked;
}

/**
 * Sends each config's rendered data once through a client built from the
 * reflected schema, with `token` as the bearer token (as a ghz user passes it
 * with --metadata); all must succeed. The configs' ranges are written for the
 * default seed; randomInt picks the range's lowest value folded into
 * 1..maxIndex so the ids exist at any scale.
 */
export async function callGhzConfigsOnce(schema: ReflectedSchema, baseUrl: string, maxIndex: number, token: string, dir = GHZ_DIR): Promise<void> {
  const { createClient, ConnectError } = await import("@connectrpc/connect");
  const { createGrpcTransport } = await import("@connectrpc/connect-node");
  const transport = createGrpcTransport({ baseUrl });
  const failures: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const config = JSON.parse(readFileSync(join(dir, file), "utf8")) as { call: string; data?: unknown };
    const [, svc, name] = /^(.+)[./]([^./]+)$/.exec(config.call)!;
    const service = schema.registry.getService(svc)!;
    const method = service.methods.find((x) => x.name === name)!;
    const client = createClient(service, transport) as unknown as Record<string, (req: unknown, options: object) => Promise<unknown>>;
    const req = fromJson(method.input, JSON.parse(renderGhzTemplate(JSON.stringify(config.data ?? {}), 1, (a) => ((a - 1) % maxIndex) + 1)) as JsonValue, {
      registry: schema.registry,
    });
    try {
      await client[method.localName](req, { headers: bearer(token) });
    } catch (err) {
      failures.push(`${file}: ${ConnectError.from(err).message}`);
    }
  }
  if (failures.length > 0) throw new Error(`ghz config requests fail against the seeded service:\n  ${failures.join("\n  ")}`);
}
