import { createHash, type Hash } from 'node:crypto';
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

/**
 * An order-dependent SHA-256 over a table's canonical rows, fed in key order
 * by both sides, so equal checksums mean equal tables.
 */
export class TableChecksum {
  private readonly hash: Hash = createHash('sha256');
  rows = 0;

  constructor(private readonly table: CopyTable) {}

  add(row: Record<string, unknown>): void {
    this.hash.update(canonicalRow(this.table, row));
    this.hash.update('\n');
    this.rows += 1;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
