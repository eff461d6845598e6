import { createHash } from "node:crypto";
import { invalidArgument } from "./errors.js";

/**
 * Opaque keyset page tokens (AIP-158). A token carries the last row's sort
 * key and a fingerprint of the query it was issued for (filter, order, and
 * which list), so it cannot be replayed against another query or another
 * list. A token is client input like any other: every key is checked by the
 * list's own `parseKey` before it reaches a query, so a forged or foreign
 * token is INVALID_ARGUMENT INVALID_PAGE_TOKEN, never a database error.
 */
export function fingerprint(query: unknown): string {
  return createHash("sha256").update(JSON.stringify(query)).digest("base64url").slice(0, 16);
}

export function encodePageToken(key: readonly (string | number)[], query: unknown): string {
  return Buffer.from(JSON.stringify({ k: key, f: fingerprint(query) })).toString("base64url");
}

export const invalidPageToken = (description = "not a token this service issued for this list") =>
  invalidArgument("INVALID_PAGE_TOKEN", `page_token is invalid: ${description}`, [{ field: "page_token", description }]);

/**
 * The key of `token`, checked by `parseKey` (which returns undefined for a
 * key it does not accept), or undefined for an empty token.
 */
export function decodePageToken<K>(token: string, query: unknown, parseKey: (key: readonly unknown[]) => K | undefined): K | undefined {
  if (token === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const p = parsed as { k?: unknown; f?: unknown } | undefined;
  if (!p || typeof p !== "object" || !Array.isArray(p.k) || typeof p.f !== "string") throw invalidPageToken();
  if (p.f !== fingerprint(query)) throw invalidPageToken("issued for another list, filter or order: start again without a token");
  const key = parseKey(p.k);
  if (key === undefined) throw invalidPageToken();
  return key;
}

/** Key parts the lists use. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 0001-01-01 to 9999-12-31, the range of google.protobuf.Timestamp, in epoch milliseconds. */
const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999;

export const isUuid = (v: unknown): v is string => typeof v === "string" && UUID.test(v);
export const isEpochMs = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= MIN_MS && (v as number) <= MAX_MS;
