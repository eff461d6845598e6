/**
 * What staff and other systems attach to an order: notes, tags and
 * metadata, none of it shown to customers. Allowed on every order that is
 * not deleted, final ones too (a note about a return, a fraud-review tag
 * after delivery): they change nothing the order promised. Each is bounded
 * (MAX_*) because it lives in the order's row, read with every order. A
 * request that changes nothing is no change (no version, no event), so
 * repeats are harmless; a note is idempotent by (order, request id), its id
 * derived from them like a shipment's.
 */
import { DomainError } from "../../kernel/errors.js";
import { uuidV5 } from "../../kernel/uuid-v5.js";
import {
  metadataKeySetAndRemoved,
  metadataLimitReached,
  noteLimitReached,
  noteRequestReused,
  tagAddedAndRemoved,
  tagLimitReached,
} from "./order-errors.js";
import type { Order } from "./order.js";
import type { ChangeMeta, DecidedChange } from "./transition.js";

export const MAX_NOTES = 100;
export const MAX_TAGS = 20;
export const MAX_METADATA_ENTRIES = 20;

export interface StaffNote {
  readonly id: string;
  readonly requestId: string;
  readonly text: string;
  /** The caller's actor, as in StatusChange.actor. */
  readonly author: string;
  readonly createTime: Date;
}

/** Namespace of note ids (a fixed random UUID). */
const NOTE_ID_NAMESPACE = "1f9c0c47-9b38-4267-baee-32533c6227d2";

/** UUIDv5 of (order id, request id): every repeat of an AddOrderNote names the same note. */
export function noteIdFor(orderId: string, requestId: string): string {
  return uuidV5(NOTE_ID_NAMESPACE, `${orderId.toLowerCase()}\n${requestId}`);
}

/** Whether an AddOrderNote repeats the one that wrote one of the order's notes; IDEMPOTENCY_KEY_REUSED when its request id wrote another text. */
function repeatedNote(order: Order, requestId: string, text: string): boolean | DomainError {
  const id = noteIdFor(order.id, requestId);
  const found = order.staffNotes.find((n) => n.id === id);
  if (!found) return false;
  return found.text === text ? true : noteRequestReused();
}

/** For the repository's guard (before the etag is looked at): a repeat, or throws IDEMPOTENCY_KEY_REUSED. */
export function isRepeatedNote(order: Order, requestId: string, text: string): boolean {
  const repeat = repeatedNote(order, requestId, text);
  if (repeat instanceof DomainError) throw repeat;
  return repeat;
}

export function addNote(order: Order, requestId: string, text: string, meta: ChangeMeta): DecidedChange[] | DomainError {
  const repeat = repeatedNote(order, requestId, text);
  if (repeat instanceof DomainError) return repeat;
  if (repeat) return [];
  if (order.staffNotes.length >= MAX_NOTES) return noteLimitReached(order.id, MAX_NOTES);
  const note: StaffNote = { id: noteIdFor(order.id, requestId), requestId, text, author: meta.actor, createTime: meta.at };
  return [{ kind: "NOTE_ADDED", order: { ...order, staffNotes: [...order.staffNotes, note] }, note }];
}

const sorted = (items: Iterable<string>) => [...new Set(items)].sort();

/** A tag both added and removed: the request contradicts itself (checked before the order is looked at). */
export function tagRequestConflict(add: readonly string[], remove: readonly string[]): DomainError | undefined {
  const both = sorted(add.filter((t) => remove.includes(t)));
  return both.length > 0 ? tagAddedAndRemoved(both) : undefined;
}

/** Adds and removes tags; only the tags that actually come or go are the change. */
export function updateTags(order: Order, add: readonly string[], remove: readonly string[], meta: ChangeMeta): DecidedChange[] | DomainError {
  const conflict = tagRequestConflict(add, remove);
  if (conflict) return conflict;
  const had = new Set(order.tags);
  const added = sorted(add.filter((t) => !had.has(t)));
  const removed = sorted(remove.filter((t) => had.has(t)));
  if (added.length === 0 && removed.length === 0) return [];
  const tags = sorted([...order.tags.filter((t) => !removed.includes(t)), ...added]);
  if (tags.length > MAX_TAGS) return tagLimitReached(order.id, MAX_TAGS);
  return [{ kind: "TAGS_CHANGED", order: { ...order, tags }, added, removed, actor: meta.actor }];
}

/** A key both set and removed (checked before the order is looked at). */
export function metadataRequestConflict(set: Readonly<Record<string, string>>, remove: readonly string[]): DomainError | undefined {
  const both = sorted(remove.filter((k) => Object.hasOwn(set, k)));
  return both.length > 0 ? metadataKeySetAndRemoved(both) : undefined;
}

/**
 * Sets and removes entries; only entries that get another value, come or go
 * are the change. Keys are client input ("__proto__" is a valid key), so the
 * maps are read with hasOwn and built with fromEntries (own properties only).
 */
export function updateMetadata(
  order: Order,
  set: Readonly<Record<string, string>>,
  remove: readonly string[],
  meta: ChangeMeta,
): DecidedChange[] | DomainError {
  const conflict = metadataRequestConflict(set, remove);
  if (conflict) return conflict;
  const current = order.metadata;
  const setKeys = sorted(Object.keys(set).filter((k) => !Object.hasOwn(current, k) || current[k] !== set[k]));
  const removedKeys = sorted(remove.filter((k) => Object.hasOwn(current, k)));
  if (setKeys.length === 0 && removedKeys.length === 0) return [];
  const next = new Map(Object.entries(current));
  for (const k of removedKeys) next.delete(k);
  for (const k of setKeys) next.set(k, set[k]!);
  if (next.size > MAX_METADATA_ENTRIES) return metadataLimitReached(order.id, MAX_METADATA_ENTRIES);
  const metadata = Object.fromEntries([...next].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return [{ kind: "METADATA_CHANGED", order: { ...order, metadata }, setKeys, removedKeys, actor: meta.actor }];
}
