/**
 * The compressions the HTTP port speaks, on both Connect paths
 * (connect-unary.ts and connect-adapter.ts): gzip and br, under the names
 * connect-node gives them and decompressing with connect-node's own code.
 * Only compressing a response differs, for a server's sake:
 *
 * - **In place, not on the thread pool, up to `IN_PLACE_MAX_BYTES`.**
 *   connect-node compresses with zlib's callback API: a fresh stream, a
 *   thread-pool hop and a callback per response. For a 1 KiB order that
 *   cost ~130 µs of CPU against ~30 µs for the same gzip done in place, and
 *   the GetOrder row over Connect JSON spent a fifth of its server CPU there
 *   once issue 14's wider orders passed the 1 KiB `compressMinBytes`
 *   (BENCHMARKS.md "Response compression"). Larger bodies still go to the
 *   thread pool, so no response blocks the event loop for long (16 KiB in
 *   place: ~50 µs gzip, ~90 µs br).
 * - **Brotli at quality 5, with the size as a hint.** zlib's default is
 *   quality 11, meant for static assets: 1.5 ms of CPU for a 1 KiB order,
 *   90 ms for a 64 KiB page, 370 ms for 256 KiB — any client sending
 *   `Accept-Encoding: br` could buy seconds of server CPU with a few list
 *   calls. Quality 5 costs about what gzip does and its output is 3–10%
 *   larger than quality 11's, still smaller than gzip's.
 *
 * gzip keeps zlib's defaults, so its bytes are connect-node's byte for byte;
 * test/unit/platform/compression.test.ts holds both to that and to
 * connect-node's decompression.
 */
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { compressionNegotiate, type Compression } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";

/** Largest body compressed on the event loop; larger ones go to the thread pool. */
export const IN_PLACE_MAX_BYTES = 16 * 1024;
/** Brotli's quality for responses (zlib's default is 11). */
export const BROTLI_QUALITY = 5;

const gzipAsync = promisify(zlib.gzip);
const brotliAsync = promisify(zlib.brotliCompress);

const brotliOptions = (size: number): zlib.BrotliOptions => ({
  params: { [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size },
});

/** A Uint8Array over an ArrayBuffer (as connect-node returns), viewing the Buffer's bytes. */
const bytesOf = (b: Buffer): Uint8Array<ArrayBuffer> =>
  b.buffer instanceof ArrayBuffer ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);

/** connect-node's `base` (its name and decompression), compressing in place up to IN_PLACE_MAX_BYTES and on the thread pool above. */
function compressing(base: Compression, inPlace: (bytes: Uint8Array) => Buffer, pooled: (bytes: Uint8Array) => Promise<Buffer>): Compression {
  return {
    ...base,
    compress: (bytes) => (bytes.byteLength <= IN_PLACE_MAX_BYTES ? Promise.resolve(bytesOf(inPlace(bytes))) : pooled(bytes).then(bytesOf)),
  };
}

export const gzip = compressing(compressionGzip, (b) => zlib.gzipSync(b), gzipAsync);
export const brotli = compressing(
  compressionBrotli,
  (b) => zlib.brotliCompressSync(b, brotliOptions(b.byteLength)),
  (b) => brotliAsync(b, brotliOptions(b.byteLength)),
);

const accepted: Compression[] = [gzip, brotli];
/** What the HTTP port accepts and answers with, in connect-node's order of preference. */
export const ACCEPT_COMPRESSION: readonly Compression[] = accepted;

/**
 * connect's negotiation over ACCEPT_COMPRESSION, for both Connect paths: the
 * encoding of the request (`requested`, null: none) and the one to answer with
 * (from `acceptedHeader`, or the request's when absent), or the error.
 */
export const negotiateCompression = (requested: string | null, acceptedHeader: string | null, headerName: string) =>
  compressionNegotiate(accepted, requested, acceptedHeader, headerName);
