/**
 * A request body over MAX_RECEIVE_MESSAGE_BYTES is answered, every time,
 * with RESOURCE_EXHAUSTED (HTTP 429 and the Connect error body): over h2c and
 * HTTP/1.1, with a declared Content-Length and without one, on the Connect
 * fast path (JSON) and on connect-node's path (a gzip-encoded request). The
 * answer used to be lost now and then on h2c: the body was read by iterating
 * the Node request, and leaving that loop early reset the stream.
 *
 * And the same with curl, the client the issue was found with: gRPC-Web and
 * gRPC answer with HTTP 200, which does not stop curl's upload, and curl
 * (7.88 here) hangs with the whole answer in hand when the response ends
 * while it still sends — the server now answers once the upload is over
 * (request-body.ts refusedUploadSettled).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "../support/servers.js";

const MAX = 64 * 1024;
const TRIES = 20;
const PATH = "/inventory.v1.InventoryService/ListProducts";
const CHUNK = 16 * 1024;

interface Answer {
  readonly status: number;
  readonly body: string;
}

const json = () => Buffer.from(`{"pageSize":1,"filter":"${"a".repeat(4 * MAX)}"}`);
const gzipped = () => gzipSync(Buffer.alloc(4 * MAX, "a"), { level: 0 });

/** Sends `body` in chunks, as an upload does; resolves at the answer's end (the send may still fail after it). */
function h2Call(url: string, body: Buffer, headers: Record<string, string>, declare: boolean): Promise<Answer> {
  const session = http2.connect(url);
  return new Promise<Answer>((resolve, reject) => {
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": PATH, ...headers, ...(declare ? { "content-length": String(body.length) } : {}) });
    let status = 0;
    let text = "";
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", (d: Buffer) => (text += d.toString()));
    req.on("end", () => resolve({ status, body: text }));
    req.on("error", (e) => (status ? resolve({ status, body: text }) : reject(e)));
    writeChunks(req, body);
  }).finally(() => session.close());
}

function h1Call(url: string, body: Buffer, headers: Record<string, string>, declare: boolean): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { host: u.hostname, port: u.port, method: "POST", path: PATH, agent: false, headers: { ...headers, ...(declare ? { "content-length": String(body.length) } : {}) } },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // The server may close its side once it has answered; only a failure without an answer counts.
    let answered = false;
    req.once("response", () => (answered = true));
    req.on("error", (e) => (answered ? undefined : reject(e)));
    writeChunks(req, body);
  });
}

function writeChunks(w: NodeJS.WritableStream, body: Buffer) {
  let off = 0;
  const more = () => {
    while (off < body.length) {
      const c = body.subarray(off, (off += CHUNK));
      if (!w.write(c)) return void w.once("drain", more);
    }
    w.end();
  };
  w.on("error", () => {});
  more();
}

describe("uploads over the limit", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ config: { maxReceiveMessageBytes: MAX } });
  });
  afterAll(() => stack?.close());

  const cases: { path: string; body: () => Buffer; headers: Record<string, string> }[] = [
    { path: "fast path (JSON)", body: json, headers: { "content-type": "application/json" } },
    { path: "connect-node (gzip)", body: gzipped, headers: { "content-type": "application/json", "content-encoding": "gzip" } },
  ];
  for (const wire of ["h2c", "http/1.1"] as const) {
    for (const declare of [true, false]) {
      for (const c of cases) {
        it(`${wire}, ${declare ? "Content-Length declared" : "length unknown"}, ${c.path}: ${TRIES} of ${TRIES} are RESOURCE_EXHAUSTED`, async () => {
          const answers: Answer[] = [];
          for (let i = 0; i < TRIES; i++) {
            const call = wire === "h2c" ? h2Call : h1Call;
            answers.push(await call(stack.httpUrl, c.body(), c.headers, declare).catch((e: Error) => ({ status: 0, body: e.message })));
          }
          const summary = answers.map((a) => `${a.status} ${a.status === 429 ? (JSON.parse(a.body) as { code: string }).code : a.body}`);
          expect(summary).toEqual(Array(TRIES).fill("429 resource_exhausted"));
        }, 60_000);
      }
    }
  }
});

/** One curl call over h2c; curl's exit code, the HTTP status and the response (headers and body). */
function curl(url: string, file: string, contentType: string): Promise<{ code: number; status: string; output: string }> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-s", "-D", "-", "-o", "-", "-w", "\\n%{http_code}", "-m", "5", "--http2-prior-knowledge", "-X", "POST", "-H", `content-type: ${contentType}`, "-H", "te: trailers", "--data-binary", `@${file}`, url + PATH],
      { encoding: "latin1", maxBuffer: 1 << 20 },
      (err, stdout) => {
        const lines = stdout.trimEnd().split("\n");
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, status: lines.at(-1) ?? "", output: stdout });
      },
    );
  });
}

describe("uploads over the limit, sent by curl over h2c", () => {
  let stack: TestStack;
  const dir = mkdtempSync(join(tmpdir(), "large-uploads-"));
  const enveloped = join(dir, "enveloped.bin");
  const plain = join(dir, "plain.json");
  beforeAll(async () => {
    stack = await startTestStack({ config: { maxReceiveMessageBytes: MAX } });
    // Over 1 MiB, as in the issue: one envelope (flag 0, 4-byte length) around a message far over the limit.
    const message = Buffer.alloc(1536 * 1024, 0x61);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    writeFileSync(enveloped, Buffer.concat([prefix, message]));
    writeFileSync(plain, `{"pageSize":1,"filter":"${"a".repeat(1536 * 1024)}"}`);
  });
  afterAll(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases = [
    { protocol: "gRPC-Web", contentType: "application/grpc-web+proto", file: () => enveloped, expect: "200 grpc-status 8" },
    { protocol: "gRPC", contentType: "application/grpc+proto", file: () => enveloped, expect: "200 grpc-status 8" },
    { protocol: "Connect JSON", contentType: "application/json", file: () => plain, expect: "429 resource_exhausted" },
  ];
  for (const c of cases) {
    it(`${c.protocol}: ${TRIES} of ${TRIES} curl runs end at once with RESOURCE_EXHAUSTED`, async () => {
      const outcomes: string[] = [];
      for (let i = 0; i < TRIES; i++) {
        const r = await curl(stack.httpUrl, c.file(), c.contentType);
        const grpcStatus = /grpc-status: ?(\d+)/i.exec(r.output)?.[1];
        const connectCode = /"code":"(\w+)"/.exec(r.output)?.[1];
        outcomes.push(`exit ${r.code}: ${r.status} ${grpcStatus !== undefined ? `grpc-status ${grpcStatus}` : connectCode}`);
      }
      expect(outcomes).toEqual(Array(TRIES).fill(`exit 0: ${c.expect}`));
    }, 120_000);
  }
});
