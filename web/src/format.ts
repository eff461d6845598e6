/** How values of the API read on the page. */
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Money } from "../../gen/common/v1/money_pb.js";
import { OrderStatus, PaymentStatus, type Payment } from "../../gen/orders/v1/order_service_pb.js";

/** An amount in minor units as the currency writes it: 4900 USD → $49.00. */
export function money(m: Money | undefined): string {
  if (!m) return "—";
  try {
    const f = new Intl.NumberFormat(undefined, { style: "currency", currency: m.currencyCode });
    const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
    const abs = m.amountMinor < 0n ? -m.amountMinor : m.amountMinor;
    const scale = 10n ** BigInt(digits);
    const fraction = digits > 0 ? `.${(abs % scale).toString().padStart(digits, "0")}` : "";
    // Through a decimal string, so amounts past 2^53 minor units stay exact.
    return f.format(`${m.amountMinor < 0n ? "-" : ""}${abs / scale}${fraction}` as Intl.StringNumericLiteral);
  } catch {
    return `${m.amountMinor} ${m.currencyCode} (minor units)`;
  }
}

/** PROCESSING, SHIPPED, … as the API names them without the enum prefix. */
export function statusName(s: OrderStatus): string {
  return OrderStatus[s] ?? `status ${s}`;
}

/** AUTHORIZED, CAPTURED, … without the enum prefix. */
export function paymentStatusName(s: PaymentStatus): string {
  return PaymentStatus[s] ?? `payment ${s}`;
}

/** The payment in one line: its status, what was captured and refunded, and any refund still owed. */
export function paymentSummary(p: Payment | undefined): string {
  if (!p) return "—";
  const parts = [paymentStatusName(p.status)];
  if ((p.captured?.amountMinor ?? 0n) > 0n) parts.push(`captured ${money(p.captured)}`);
  if ((p.refunded?.amountMinor ?? 0n) > 0n) parts.push(`refunded ${money(p.refunded)}`);
  if ((p.refundPending?.amountMinor ?? 0n) > 0n) parts.push(`refund due ${money(p.refundPending)}`);
  return parts.join(", ");
}

/** A timestamp in the browser's locale and zone: date and time, or the time of day alone. */
export function time(ts: Timestamp | undefined, part: "date and time" | "time" = "date and time"): string {
  if (!ts) return "—";
  const d = timestampDate(ts);
  return part === "time" ? d.toLocaleTimeString() : d.toLocaleString();
}

/** The first block of a UUID, for tables (the full id is in the element's title). */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** History's actor with a customer's id shortened: customer:22222222…, staff:demo-staff as is. */
export function shortActor(actor: string): string {
  const m = /^customer:([0-9a-f]{8})-[0-9a-f-]{27}$/.exec(actor);
  return m ? `customer:${m[1]}…` : actor;
}
