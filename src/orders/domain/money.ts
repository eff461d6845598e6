/**
 * Money in integer minor units (bigint) of one ISO-4217 currency. Never a
 * float: totals are exact sums.
 */
import { failedPrecondition } from "../../kernel/errors.js";

export interface Money {
  readonly currency: string;
  readonly amountMinor: bigint;
}

export function money(currency: string, amountMinor: bigint): Money {
  return { currency, amountMinor };
}

export function times(price: Money, quantity: number): Money {
  if (!Number.isSafeInteger(quantity)) throw new RangeError(`quantity ${quantity} is not an integer`);
  return { currency: price.currency, amountMinor: price.amountMinor * BigInt(quantity) };
}

/** Sum of amounts that must all be in `currency`. */
export function sum(currency: string, amounts: readonly Money[]): Money {
  let total = 0n;
  for (const m of amounts) {
    if (m.currency !== currency) throw mixedCurrencies([{ subject: "total", currency: m.currency }], currency);
    total += m.amountMinor;
  }
  return { currency, amountMinor: total };
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
