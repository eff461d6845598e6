/** Hand-made requests for tests that speak a protocol by hand: an envelope frame, one raw gRPC call. */
import http2 from "node:http2";

/** One length-prefixed message (gRPC, gRPC-Web, Connect streaming): flags, 4-byte length, bytes. */
export function envelope(bytes: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + bytes.length);
  out[0] = flags;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}

/** One raw gRPC call of `frame` on `url`; the response headers and trailers together. */
export function rawGrpc(url: string, path: string, frame: Buffer, headers: Record<string, string>): Promise<Record<string, unknown>> {
  const session = http2.connect(url);
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let got: Record<string, unknown> = {};
    req.on("response", (h) => (got = { ...h }));
    req.on("trailers", (t) => (got = { ...got, ...t }));
    req.on("end", () => resolve(got));
    req.on("error", reject);
    req.resume();
    req.end(frame);
  }).finally(() => session.close());
}
