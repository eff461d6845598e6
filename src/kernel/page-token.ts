import { createHash } from "node:crypto";
import { invalidArgument } from "./errors.js";

/**
 * Opaque keyset page tokens. A token carries the last row's sort key and a
 * fingerprint of the query's filter and order, so a token cannot be replayed
 * against a different query (AIP-158).
 */
export function fingerprint(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query)).digest("base64url").slice(0, 16);
}

export function encodePageToken(key: readonly (string | number)[], query: unknown): string {
  return Buffer.from(JSON.stringify({ k: key, f: fingerprint(query) })).toString("base64url");
}

/** Returns the key, or undefined for an empty token. */
export function decodePageToken(token: string, query: unknown): (string | number)[] | undefined {
  if (token === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const p = parsed as { k?: unknown; f?: unknown } | undefined;
  if (!p || !Array.isArray(p.k) || typeof p.f !== "string") {
    throw invalidArgument("PAGE_TOKEN_INVALID", "page_token is not a token this service issued", [
      { field: "page_token", description: "not a token this service issued" },
    ]);
  }
  if (p.f !== fingerprint(query)) {
    throw invalidArgument(
      "PAGE_TOKEN_MISMATCH",
      "page_token was issued for a different filter or order",
      [{ field: "page_token", description: "filter or order changed between pages" }],
    );
  }
  return p.k as (string | number)[];
}
