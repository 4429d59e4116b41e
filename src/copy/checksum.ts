import { addRowHash, parseSum, sumText } from './row-hash.js';
import type { CopyTable } from './tables.js';

/**
 * The engine-independent form of one value: what MySQL, PostgreSQL and SQLite
 * return for the same stored value must map to the same text.
 */
export function canonicalValue(kind: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'integer':
      return String(Number(value));
    case 'float': {
      // MySQL FLOAT is single precision: compare at float32's 6 significant digits.
      const n = Number(value);
      return String(Number(n.toPrecision(6)));
    }
    case 'datetime':
      return canonicalTimestamp(value);
    default:
      return String(value);
  }
}

/**
 * Timestamps to whole seconds, as 'YYYY-MM-DD HH:MM:SS': MySQL's DATETIME
 * keeps no fraction, so a copy into MySQL legitimately drops it.
 */
export function canonicalTimestamp(value: unknown): string {
  if (value instanceof Date) return value.toISOString().slice(0, 19).replace('T', ' ');
  const text = String(value).replace('T', ' ');
  return text.slice(0, 19);
}

/** One row, in placement's column order, as canonical JSON. */
export function canonicalRow(table: CopyTable, row: Record<string, unknown>): string {
  return JSON.stringify(
    table.columns.map((c) => canonicalValue(table.kinds[c] ?? 'varchar', row[c])),
  );
}

/** The key of a row as text, for reports ("id=42", "resource_provider_id=1,aggregate_id=3"). */
export function keyText(table: CopyTable, row: Record<string, unknown>): string {
  return table.key.map((k) => `${k}=${String(row[k])}`).join(',');
}

/** canonicalValue for one column kind, resolved once per table rather than per value. */
function canonicalizer(kind: string): (value: unknown) => string | null {
  return (value) => canonicalValue(kind, value);
}

/**
 * A table's checksum: the sum of its canonical rows' 128-bit hashes
 * (row-hash.ts), so the same rows give the same checksum whatever their
 * order, however the table was cut into key ranges, and over resumed runs;
 * and, the rows being canonical, on every engine. Each value is hashed as
 * its length and text (NULL as one NUL), which is unambiguous without
 * escaping: cheaper than canonicalRow's JSON, which stays the readable form.
 * The row count is kept beside it (a checksum is compared with its count).
 */
export class TableChecksum {
  private readonly sum = new Uint32Array(4);
  private readonly columns: { name: string; canon: (v: unknown) => string | null }[];
  rows = 0;

  constructor(table: CopyTable) {
    this.columns = table.columns.map((name) => ({
      name,
      canon: canonicalizer(table.kinds[name] ?? 'varchar'),
    }));
  }

  add(row: Record<string, unknown>): void {
    let line = '';
    for (const { name, canon } of this.columns) {
      const v = canon(row[name]);
      line += v === null ? '\0' : `${v.length}:${v}`;
    }
    addRowHash(line, this.sum);
    this.rows += 1;
  }

  digest(): string {
    return sumText(this.sum);
  }
}

/** The checksum of a table from its slices' checksums: their sum, so any slicing gives the same. */
export function combineChecksums(parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]!;
  const total = new Uint32Array(4);
  for (const part of parts) {
    const sum = parseSum(part);
    for (let lane = 0; lane < 4; lane++) total[lane] = total[lane]! + sum[lane]!;
  }
  return sumText(total);
}
