/**
 * Numbers and counted nouns in operator output, one format everywhere: a
 * thousands separator ("2,312"), and the singular for one ("1 row", "1
 * provider"), never "row(s)" or "1 providers".
 */

/** 1234567 → "1,234,567". */
export const formatNumber = (n: number): string => n.toLocaleString('en-US');

/** 1 → "1 row", 2312 → "2,312 rows"; `plural` for nouns that do not take an s. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${formatNumber(n)} ${n === 1 ? singular : plural}`;
}
