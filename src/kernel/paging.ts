/** Page-size rules shared by every List RPC (AIP-158). */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** 0 → the list's default (`defaultSize`); above the maximum → the maximum. Negative is rejected by validation. */
export function effectivePageSize(requested: number, defaultSize = DEFAULT_PAGE_SIZE): number {
  if (requested <= 0) return defaultSize;
  return Math.min(requested, MAX_PAGE_SIZE);
}
