/**
 * Money in integer minor units (bigint) of one ISO-4217 currency. Never a
 * float: totals are exact sums. Amounts are stored as int64, so arithmetic is
 * checked: a line total or order total past the int64 range is
 * FAILED_PRECONDITION AMOUNT_OUT_OF_RANGE, not a database error.
 */
import { failedPrecondition } from "../../kernel/errors.js";

export interface Money {
  readonly currency: string;
  readonly amountMinor: bigint;
}

export function money(currency: string, amountMinor: bigint): Money {
  return { currency, amountMinor };
}

export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

/** `amount`, or AMOUNT_OUT_OF_RANGE about `subject` when it does not fit an int64. */
function checked(amount: bigint, subject: string): bigint {
  if (amount > INT64_MAX || amount < INT64_MIN) {
    throw failedPrecondition("AMOUNT_OUT_OF_RANGE", `the amount of ${subject} is too large to be stored`, [
      { type: "AMOUNT_OUT_OF_RANGE", subject, description: "exceeds the largest amount (2^63 - 1 minor units)" },
    ]);
  }
  return amount;
}

/** price × quantity; `subject` names the line in an AMOUNT_OUT_OF_RANGE. */
export function times(price: Money, quantity: number, subject = "line"): Money {
  if (!Number.isSafeInteger(quantity)) throw new RangeError(`quantity ${quantity} is not an integer`);
  return { currency: price.currency, amountMinor: checked(price.amountMinor * BigInt(quantity), subject) };
}

/** Sum of amounts that must all be in `currency`. */
export function sum(currency: string, amounts: readonly Money[]): Money {
  let total = 0n;
  for (const m of amounts) {
    if (m.currency !== currency) throw mixedCurrencies([{ subject: "total", currency: m.currency }], currency);
    total += m.amountMinor;
  }
  return { currency, amountMinor: checked(total, "total") };
}

export interface Priced {
  readonly subject: string;
  readonly price: Money;
}

/**
 * The one currency of a set of prices; FAILED_PRECONDITION MIXED_CURRENCIES
 * (a violation per item not in the first item's currency) otherwise.
 */
export function singleCurrency(items: readonly Priced[]): string {
  if (items.length === 0) throw new RangeError("no prices");
  const currency = items[0].price.currency;
  const others = items.filter((i) => i.price.currency !== currency);
  if (others.length > 0) {
    throw mixedCurrencies(others.map((o) => ({ subject: o.subject, currency: o.price.currency })), currency);
  }
  return currency;
}

function mixedCurrencies(offenders: { subject: string; currency: string }[], expected: string) {
  return failedPrecondition(
    "MIXED_CURRENCIES",
    `an order is in one currency; expected ${expected} for every line`,
    offenders.map((o) => ({
      type: "MIXED_CURRENCIES",
      subject: o.subject,
      description: `priced in ${o.currency}, the order is in ${expected}`,
    })),
  );
}
