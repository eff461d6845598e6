/**
 * Staff notes, tags and metadata (domain/annotations.ts) through `decide`:
 * what each changes, that a request changing nothing is no change (no
 * version, no event), a note's idempotency by request id, the limits, and
 * that every order not deleted takes them, final ones too.
 */
import { describe, expect, it } from "vitest";
import { isRepeatedNote, MAX_METADATA_ENTRIES, MAX_NOTES, MAX_TAGS, noteIdFor, type StaffNote } from "../../../src/orders/domain/annotations.js";
import { ORDER_STATUSES } from "../../../src/orders/domain/order-status.js";
import { decide, type OrderCommand } from "../../../src/orders/domain/transition.js";
import { decided, orderFixture, refused, T0, T1 } from "./order-fixture.js";

const meta = { at: T1, actor: "staff:ann" };
const order = orderFixture("CONFIRMED");
const note = (cmd: { requestId: string; text: string }): OrderCommand => ({ kind: "ADD_NOTE", ...cmd });
const tags = (add: string[], remove: string[] = []): OrderCommand => ({ kind: "UPDATE_TAGS", add, remove });
const metadata = (set: Record<string, string>, remove: string[] = []): OrderCommand => ({ kind: "UPDATE_METADATA", set, remove });

const notes = (n: number): StaffNote[] =>
  Array.from({ length: n }, (_, i) => ({ id: noteIdFor(order.id, `n${i}`), requestId: `n${i}`, text: `note ${i}`, author: "staff:x", createTime: T0 }));

describe("ADD_NOTE", () => {
  it("adds the note, by the caller, with an id derived from order and request id: one version, one event", () => {
    const d = decided(decide(order, note({ requestId: "call-1", text: "Customer called" }), meta));
    const added = { id: noteIdFor(order.id, "call-1"), requestId: "call-1", text: "Customer called", author: "staff:ann", createTime: T1 };
    expect(d.order.staffNotes).toEqual([added]);
    expect(d.order.version).toBe(order.version + 1);
    expect(d.changes).toEqual([]); // no status change: no history row
    expect(d.events).toEqual([{ kind: "NOTE_ADDED", order: d.order, note: added, actor: "staff:ann" }]);
    expect(noteIdFor(order.id.toUpperCase(), "call-1")).toBe(added.id);
    expect(noteIdFor(order.id, "call-2")).not.toBe(added.id);
  });

  it("keeps notes oldest first", () => {
    const first = decided(decide(order, note({ requestId: "a", text: "one" }), meta)).order;
    const second = decided(decide(first, note({ requestId: "b", text: "two" }), { ...meta, at: new Date(T1.getTime() + 1) })).order;
    expect(second.staffNotes.map((n) => n.text)).toEqual(["one", "two"]);
  });

  it("a repeat (same request id, same text) changes nothing; other text is IDEMPOTENCY_KEY_REUSED", () => {
    const once = decided(decide(order, note({ requestId: "a", text: "one" }), meta)).order;
    expect(decided(decide(once, note({ requestId: "a", text: "one" }), meta))).toMatchObject({ changed: false, events: [], order: once });
    expect(refused(decide(once, note({ requestId: "a", text: "ONE" }), meta)).reason).toBe("IDEMPOTENCY_KEY_REUSED");
    // The repository's guard, before the etag: a repeat, a new one, or the same refusal.
    expect(isRepeatedNote(once, "a", "one")).toBe(true);
    expect(isRepeatedNote(once, "b", "one")).toBe(false);
    expect(() => isRepeatedNote(once, "a", "other")).toThrow(expect.objectContaining({ reason: "IDEMPOTENCY_KEY_REUSED" }));
  });

  it(`refuses the note past ${MAX_NOTES} (NOTE_LIMIT_REACHED), but still answers a repeat`, () => {
    const almost = orderFixture("CONFIRMED", { staffNotes: notes(MAX_NOTES - 1) });
    const full = decided(decide(almost, note({ requestId: "last", text: "last" }), meta)).order;
    expect(full.staffNotes).toHaveLength(MAX_NOTES);
    const err = refused(decide(full, note({ requestId: "more", text: "more" }), meta));
    expect([err.kind, err.reason]).toEqual(["FAILED_PRECONDITION", "NOTE_LIMIT_REACHED"]);
    expect(decided(decide(full, note({ requestId: "last", text: "last" }), meta)).changed).toBe(false);
  });

  it.each(ORDER_STATUSES)("is allowed on a %s order", (status) => {
    expect(decided(decide(orderFixture(status), note({ requestId: "a", text: "x" }), meta)).changed).toBe(true);
  });
});

describe("UPDATE_TAGS", () => {
  const tagged = orderFixture("DELIVERED", { tags: ["gift", "vip"] });

  it("stores tags sorted and unique; the change names only the tags that came and went", () => {
    const d = decided(decide(tagged, tags(["rush", "gift", "a-1"], ["vip", "never-had"]), meta));
    expect(d.order.tags).toEqual(["a-1", "gift", "rush"]);
    expect(d.order.version).toBe(tagged.version + 1);
    expect(d.events).toEqual([{ kind: "TAGS_CHANGED", order: d.order, added: ["a-1", "rush"], removed: ["vip"], actor: "staff:ann" }]);
  });

  it("adding tags it has and removing tags it lacks changes nothing: no version, no event", () => {
    const d = decided(decide(tagged, tags(["vip", "gift"], ["fraud-review"]), meta));
    expect(d).toMatchObject({ changed: false, events: [], order: tagged });
    expect(decided(decide(tagged, tags([], []), meta)).changed).toBe(false);
  });

  it("a tag both added and removed is TAG_ADDED_AND_REMOVED, before anything else", () => {
    const full = orderFixture("CONFIRMED", { tags: Array.from({ length: MAX_TAGS }, (_, i) => `t${String(i).padStart(2, "0")}`) });
    const err = refused(decide(full, tags(["x", "gift"], ["gift"]), meta));
    expect([err.kind, err.reason]).toEqual(["INVALID_ARGUMENT", "TAG_ADDED_AND_REMOVED"]);
  });

  it(`holds at most ${MAX_TAGS} tags (TAG_LIMIT_REACHED); a removal makes room in the same request`, () => {
    const full = orderFixture("CONFIRMED", { tags: Array.from({ length: MAX_TAGS }, (_, i) => `t${String(i).padStart(2, "0")}`) });
    expect(decided(decide(full, tags(["t00"]), meta)).changed).toBe(false);
    const err = refused(decide(full, tags(["new"]), meta));
    expect([err.kind, err.reason]).toEqual(["FAILED_PRECONDITION", "TAG_LIMIT_REACHED"]);
    expect(decided(decide(full, tags(["new"], ["t00"]), meta)).order.tags).toHaveLength(MAX_TAGS);
  });
});

describe("UPDATE_METADATA", () => {
  const withErp = orderFixture("CANCELLED", { metadata: { erp_id: "SO-1", market: "eu" } });

  it("sets and removes entries; the change names the keys that got a new value and those removed", () => {
    const d = decided(decide(withErp, metadata({ erp_id: "SO-2", zeta: "z" }, ["market", "absent"]), meta));
    expect(d.order.metadata).toEqual({ erp_id: "SO-2", zeta: "z" });
    expect(Object.keys(d.order.metadata)).toEqual(["erp_id", "zeta"]); // sorted
    expect(d.events).toEqual([{ kind: "METADATA_CHANGED", order: d.order, setKeys: ["erp_id", "zeta"], removedKeys: ["market"], actor: "staff:ann" }]);
  });

  it("setting the value it has, or removing a key it lacks, changes nothing", () => {
    expect(decided(decide(withErp, metadata({ erp_id: "SO-1" }, ["absent"]), meta))).toMatchObject({ changed: false, events: [], order: withErp });
  });

  it("an empty value is a value", () => {
    expect(decided(decide(withErp, metadata({ erp_id: "" }), meta)).order.metadata).toEqual({ erp_id: "", market: "eu" });
  });

  it("a key both set and removed is METADATA_KEY_SET_AND_REMOVED", () => {
    const err = refused(decide(withErp, metadata({ erp_id: "x" }, ["erp_id"]), meta));
    expect([err.kind, err.reason]).toEqual(["INVALID_ARGUMENT", "METADATA_KEY_SET_AND_REMOVED"]);
  });

  it(`holds at most ${MAX_METADATA_ENTRIES} entries (METADATA_LIMIT_REACHED)`, () => {
    const full = orderFixture("CONFIRMED", { metadata: Object.fromEntries(Array.from({ length: MAX_METADATA_ENTRIES }, (_, i) => [`k${i}`, "v"])) });
    expect(decided(decide(full, metadata({ k0: "new value" }), meta)).changed).toBe(true);
    const err = refused(decide(full, metadata({ extra: "v" }), meta));
    expect([err.kind, err.reason]).toEqual(["FAILED_PRECONDITION", "METADATA_LIMIT_REACHED"]);
    expect(Object.keys(decided(decide(full, metadata({ extra: "v" }, ["k0"]), meta)).order.metadata)).toHaveLength(MAX_METADATA_ENTRIES);
  });

  it('takes keys that name Object.prototype\'s properties ("__proto__", "constructor") as plain keys', () => {
    const set = Object.fromEntries([
      ["__proto__", "p"],
      ["constructor", "c"],
    ]);
    const d = decided(decide(orderFixture("CONFIRMED"), metadata(set), meta));
    expect(Object.entries(d.order.metadata)).toEqual([
      ["__proto__", "p"],
      ["constructor", "c"],
    ]);
    expect(decided(decide(orderFixture("CONFIRMED"), metadata({}, ["constructor", "toString"]), meta)).changed).toBe(false);
  });
});
