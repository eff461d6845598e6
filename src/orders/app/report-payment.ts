/**
 * ReportPayment: the payment system says what happened to an order's
 * payment; the order's payment moves by the payment table
 * (domain/payment.ts) in one locked transaction that also stores the report
 * under its provider event id, so a repeat (a webhook delivered twice, a
 * retry after a lost answer, concurrent duplicates) changes the order once.
 */
import type { CallContext } from "../../kernel/call-context.js";
import type { Money } from "../domain/money.js";
import { currencyMismatch } from "../domain/order-errors.js";
import type { Order } from "../domain/order.js";
import { hasAmount, type PaymentEventKind } from "../domain/payment.js";
import { decide } from "../domain/transition.js";
import { invalidArgument } from "../../kernel/errors.js";
import { changeMeta } from "./change-meta.js";
import type { OrderAppPorts } from "./ports.js";

export interface ReportPaymentInput {
  readonly orderId: string;
  readonly providerEventId: string;
  readonly kind: PaymentEventKind;
  /** Unset (or zero) for VOIDED and FAILED. */
  readonly amount: Money | undefined;
  readonly reason: string;
  readonly etag: string | undefined;
}

export function createReportPayment(deps: Pick<OrderAppPorts, "repo">) {
  return async function reportPayment(cx: CallContext, input: ReportPaymentInput): Promise<Order> {
    const amountMinor = input.amount?.amountMinor ?? 0n;
    if (hasAmount(input.kind) && amountMinor <= 0n) {
      throw invalidArgument("INVALID_REQUEST", `a ${input.kind} report needs an amount above zero`, [
        { field: "amount", description: `required and above zero for ${input.kind}` },
      ]);
    }
    if (!hasAmount(input.kind) && amountMinor !== 0n) {
      throw invalidArgument("INVALID_REQUEST", `a ${input.kind} report carries no amount`, [
        { field: "amount", description: `must be unset for ${input.kind}` },
      ]);
    }
    // The currency is the order's: checked under the lock, with the order in hand.
    const currency = input.amount && amountMinor !== 0n ? input.amount.currency : undefined;
    const meta = changeMeta(cx);
    const report = { eventId: input.providerEventId, kind: input.kind, amountMinor, reason: input.reason };
    const { order } = await deps.repo.reportPayment(
      input.orderId,
      { eventId: input.providerEventId, kind: input.kind, currency: currency ?? "", amountMinor, reason: input.reason, actor: meta.actor },
      { etag: input.etag },
      (o) => {
        if (currency !== undefined && currency !== o.total.currency) return currencyMismatch(o.id, o.total.currency);
        return decide(o, { kind: "REPORT_PAYMENT", report }, meta);
      },
      cx,
    );
    return order;
  };
}
