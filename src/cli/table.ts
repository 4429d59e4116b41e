import { formatNumber } from '../text/count.js';

/** A plain text table for operator output (no colour, fixed-width columns). */
export function renderTable(
  headers: string[],
  rows: (string | number)[][],
  align: ('left' | 'right')[] = [],
): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

/** 1234567 → "1,234,567" (src/text/count.ts: the one format of every number shown). */
export const fmt = formatNumber;
