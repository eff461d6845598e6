import { randomUUID } from "node:crypto";
import * as zlib from "node:zlib";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { ACCEPT_COMPRESSION, BROTLI_QUALITY, IN_PLACE_MAX_BYTES, brotli, gzip } from "../../../src/platform/rpc/compression.js";

/** JSON-like bytes of about `size`: order-shaped records with fresh ids. */
function body(size: number): Uint8Array {
  const parts: string[] = [];
  let length = 2;
  while (length < size) {
    const p = JSON.stringify({ id: randomUUID(), customerId: randomUUID(), status: "ORDER_STATUS_CONFIRMED", total: { currencyCode: "EUR", amountMinor: String(length) } });
    parts.push(p);
    length += p.length + 1;
  }
  return new TextEncoder().encode(`[${parts.join(",")}]`.slice(0, Math.max(0, size)));
}

const SIZES = [0, 1, 1024, 1500, IN_PLACE_MAX_BYTES, IN_PLACE_MAX_BYTES + 1, 200 * 1024];

describe("the HTTP port's compressions", () => {
  it("are connect-node's, by name and order", () => {
    expect(ACCEPT_COMPRESSION.map((c) => c.name)).toEqual([compressionGzip.name, compressionBrotli.name]);
  });

  it.each(SIZES)("gzip of %i bytes is connect-node's byte for byte, in place or on the thread pool", async (size) => {
    const bytes = body(size);
    const ours = await gzip.compress(bytes);
    expect(ours.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.from(ours).equals(Buffer.from(await compressionGzip.compress(bytes)))).toBe(true);
    expect(Buffer.from(await compressionGzip.decompress(ours, 1 << 20)).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each(SIZES)("br of %i bytes decompresses with connect-node to the same bytes", async (size) => {
    const bytes = body(size);
    const ours = await brotli.compress(bytes);
    expect(ours.buffer).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.from(await compressionBrotli.decompress(ours, 1 << 20)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("compresses br at its own quality, not zlib's default 11 (whose 64 KiB page took ~90 ms of CPU)", async () => {
    const bytes = body(64 * 1024);
    const ours = Buffer.from(await brotli.compress(bytes));
    const at = (q: number) => zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: q, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } });
    expect(BROTLI_QUALITY).toBeLessThan(11);
    expect(ours.equals(at(BROTLI_QUALITY))).toBe(true);
    expect(ours.equals(zlib.brotliCompressSync(bytes))).toBe(false);
    // Still smaller than gzip's.
    expect(ours.byteLength).toBeLessThan(zlib.gzipSync(bytes).byteLength);
  });

  it("decompresses as connect-node does, limits and errors included", async () => {
    const big = zlib.gzipSync(body(4096));
    const theirs = (await compressionGzip.decompress(big, 100).catch((e: unknown) => e)) as Error;
    expect(theirs.message).toMatch(/larger than configured readMaxBytes 100/);
    await expect(gzip.decompress(big, 100)).rejects.toMatchObject({ message: theirs.message, code: (theirs as { code?: number }).code });
    await expect(gzip.decompress(new Uint8Array([1, 2, 3]), 100)).rejects.toThrow(/decompression failed/);
    await expect(brotli.decompress(new Uint8Array([1, 2, 3]), 100)).rejects.toThrow(/decompression failed/);
  });
});
