/** Money as the inventory holds it: integer minor units of one ISO-4217 currency. */
export interface Money {
  readonly currency: string;
  readonly amountMinor: bigint;
}

export function money(currency: string, amountMinor: bigint): Money {
  return { currency, amountMinor };
}
