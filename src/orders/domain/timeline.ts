/**
 * The order's timeline (ListOrderTimeline): one entry per change, i.e. per
 * version and per published event, written in the statement that writes the
 * change's outbox row. What an entry says is decided here, from the decided
 * change alone: the type of the event published for it (rpc/order-events.ts
 * picks its message by `changedEventOf` too; a unit test holds the two
 * together), one line for people, and who, why, about what and how much.
 * Notes, tags and metadata are staff only. Creations and status changes
 * read "Created as PENDING" and "Status CONFIRMED → PROCESSING", exactly:
 * migration 0010 copied the history from before the timeline in those words.
 */
import type { Money } from "./money.js";
import type { Order, StatusChange } from "./order.js";
import type { DecidedEvent } from "./transition.js";

export interface TimelineEntry {
  /** The order's version after the change; undefined for entries copied from order_history (migration 0010). */
  readonly version: number | undefined;
  /** The published event's type (its CloudEvents `type`), e.g. "orders.v1.OrderStatusChanged". */
  readonly type: string;
  readonly summary: string;
  /** Why, as the caller said; "" when nobody said. */
  readonly reason: string;
  readonly actor: string;
  /** The shipment, return or note id, or the payment report's provider event id, when the change was about one. */
  readonly subjectId: string | undefined;
  /** What a payment report or a refund falling due moved. */
  readonly amount: Money | undefined;
  readonly staffOnly: boolean;
  readonly at: Date;
}

/** A change as its timeline entry sees it: a decided one, or the order's creation (its actor is its first history entry's). */
export type TimelineSource = DecidedEvent | { readonly kind: "CREATED"; readonly order: Order };

/** The full names of proto/orders/v1/order_events.proto's messages: the events' CloudEvents `type`. */
export const ORDER_EVENT_TYPES = {
  created: "orders.v1.OrderCreated",
  statusChanged: "orders.v1.OrderStatusChanged",
  shippingInfoChanged: "orders.v1.OrderShippingInfoChanged",
  cancelled: "orders.v1.OrderCancelled",
  deleted: "orders.v1.OrderDeleted",
  paymentReported: "orders.v1.OrderPaymentReported",
  refundDue: "orders.v1.OrderRefundDue",
  shipmentChanged: "orders.v1.OrderShipmentChanged",
  unshippedCancelled: "orders.v1.OrderUnshippedCancelled",
  returnChanged: "orders.v1.OrderReturnChanged",
  noteAdded: "orders.v1.OrderNoteAdded",
  tagsChanged: "orders.v1.OrderTagsChanged",
  metadataChanged: "orders.v1.OrderMetadataChanged",
} as const;

/**
 * Which event a CHANGED change publishes: deleted; else cancelled; else
 * another status change; else (no status change) the shipping info.
 */
export function changedEventOf(order: Order, changes: readonly StatusChange[]): "deleted" | "cancelled" | "statusChanged" | "shippingInfoChanged" {
  if (order.deleted) return "deleted";
  if (changes.some((c) => c.to === "CANCELLED")) return "cancelled";
  return changes.length > 0 ? "statusChanged" : "shippingInfoChanged";
}

type Said = Pick<TimelineEntry, "type" | "summary"> & Partial<Pick<TimelineEntry, "reason" | "subjectId" | "amount" | "staffOnly">>;

export function timelineEntryOf(e: TimelineSource): TimelineEntry {
  const said = describe(e);
  return {
    version: e.order.version,
    type: said.type,
    summary: said.summary,
    reason: said.reason ?? "",
    actor: e.kind === "CREATED" ? (e.order.history[0]?.actor ?? "") : e.actor,
    subjectId: said.subjectId,
    amount: said.amount,
    staffOnly: said.staffOnly ?? false,
    at: e.order.updateTime,
  };
}

function describe(e: TimelineSource): Said {
  const o = e.order;
  const T = ORDER_EVENT_TYPES;
  switch (e.kind) {
    case "CREATED":
      return { type: T.created, summary: `Created as ${o.status}` };
    case "CHANGED":
      return describeChanged(o, e.changes);
    case "PAYMENT_REPORTED": {
      const { kind, amountMinor, eventId, reason } = e.report;
      const amount = amountMinor > 0n ? { currency: o.total.currency, amountMinor } : undefined;
      const what = `${PAYMENT_WORDS[kind]}${amount ? ` ${formatMoney(amount)}` : ""}`;
      return { type: T.paymentReported, summary: `${what} (payment ${o.payment.status})`, reason, subjectId: eventId, amount };
    }
    case "REFUND_DUE": {
      const amount = { currency: o.total.currency, amountMinor: e.amountMinor };
      return { type: T.refundDue, summary: `Refund due ${formatMoney(amount)}`, reason: e.reason, amount };
    }
    case "RETURN":
      return { type: T.returnChanged, summary: `Return of ${units(unitCount(e.ret.lines))} ${e.ret.status}`, reason: e.reason, subjectId: e.ret.id };
    case "UNSHIPPED_CANCELLED": {
      const summary = [`Unshipped units cancelled, ${unitCount(e.restock.lines)} back to stock`, ...e.changes.map(statusLine)].join("; ");
      return { type: T.unshippedCancelled, summary, reason: lastReason(e.changes) };
    }
    case "SHIPMENT": {
      const ordered = unitCount(o.lines);
      const parcels = e.shipments.map((sh) => {
        const info = sh.shippingInfo ? ` (${sh.shippingInfo.carrier} ${sh.shippingInfo.trackingNumber})` : "";
        return `Shipment ${unitCount(sh.lines)} of ${units(ordered)} ${sh.status}${info}`;
      });
      const subjectId = e.shipments.length === 1 ? e.shipments[0]!.id : undefined;
      return { type: T.shipmentChanged, summary: [...parcels, ...e.changes.map(statusLine)].join("; "), reason: lastReason(e.changes), subjectId };
    }
    case "NOTE_ADDED":
      return { type: T.noteAdded, summary: `Note: ${excerpt(e.note.text)}`, subjectId: e.note.id, staffOnly: true };
    case "TAGS_CHANGED":
      return { type: T.tagsChanged, summary: `Tags: ${listed([["added", e.added], ["removed", e.removed]])}`, staffOnly: true };
    case "METADATA_CHANGED":
      return { type: T.metadataChanged, summary: `Metadata: ${listed([["set", e.setKeys], ["removed", e.removedKeys]])}`, staffOnly: true };
  }
}

function describeChanged(o: Order, changes: readonly StatusChange[]): Said {
  const T = ORDER_EVENT_TYPES;
  const reason = lastReason(changes);
  const kind = changedEventOf(o, changes);
  switch (kind) {
    case "deleted":
      // A delete of an order still holding stock cancels it in the same change.
      return { type: T.deleted, summary: changes.length > 0 ? `Cancelled and deleted (was ${changes[0]!.from ?? "new"})` : "Deleted", reason };
    case "cancelled":
    case "statusChanged":
      return { type: T[kind], summary: changes.map(statusLine).join("; "), reason };
    case "shippingInfoChanged": {
      const info = o.shippingInfo;
      return { type: T.shippingInfoChanged, summary: info ? `Shipping info ${info.carrier} ${info.trackingNumber}` : "Shipping info removed" };
    }
  }
}

const statusLine = (c: StatusChange) => (c.from === undefined ? `Created as ${c.to}` : `Status ${c.from} → ${c.to}`);

const lastReason = (changes: readonly StatusChange[]) => changes[changes.length - 1]?.reason ?? "";

const PAYMENT_WORDS = { AUTHORIZED: "Authorized", CAPTURED: "Captured", REFUNDED: "Refunded", VOIDED: "Voided", FAILED: "Payment failed" } as const;

const unitCount = (lines: readonly { readonly quantity: number }[]) => lines.reduce((n, l) => n + l.quantity, 0);

const units = (n: number) => `${n} unit${n === 1 ? "" : "s"}`;

const listed = (parts: [string, readonly string[]][]) =>
  parts
    .filter(([, items]) => items.length > 0)
    .map(([verb, items]) => `${verb} ${items.join(", ")}`)
    .join("; ");

/** The first line of a note, cut at 80 characters: a summary is one line. */
function excerpt(text: string): string {
  const line = text.trim().split(/\r?\n/, 1)[0] ?? "";
  const cut = [...line];
  return cut.length > 80 || line.length < text.trim().length ? `${cut.slice(0, 80).join("")}…` : line;
}

/** Minor-unit digits per currency, from ICU (2 for EUR, 0 for JPY, 3 for KWD); 2 for codes it does not know. */
const digitsOf = new Map<string, number>();

function minorDigits(currency: string): number {
  let digits = digitsOf.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    digitsOf.set(currency, digits);
  }
  return digits;
}

/** "12.50 EUR": exact, from the minor units (no float on the way). */
export function formatMoney(m: Money): string {
  const digits = minorDigits(m.currency);
  const abs = (m.amountMinor < 0n ? -m.amountMinor : m.amountMinor).toString().padStart(digits + 1, "0");
  const whole = digits === 0 ? abs : `${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
  return `${m.amountMinor < 0n ? "-" : ""}${whole} ${m.currency}`;
}
