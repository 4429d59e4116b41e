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

/** canonicalValue for one column kind, resolved once per table rather than per value. */
function canonicalizer(kind: string): (value: unknown) => string | null {
  return (value) => canonicalValue(kind, value);
}

/** Rows buffered before one hash update: per-row updates cost more than the hashing. */
const FLUSH_CHARS = 1 << 16;

/**
 * An order-dependent SHA-256 over a table's canonical rows, fed in key order
 * by both sides, so equal checksums mean equal tables. Each value is hashed
 * as its length and text (NULL as one NUL), which is unambiguous without
 * escaping: cheaper than canonicalRow's JSON, which stays the readable form.
 */
export class TableChecksum {
  private readonly hash: Hash = createHash('sha256');
  private readonly columns: { name: string; canon: (v: unknown) => string | null }[];
  private pending = '';
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
    this.pending += `${line}\n`;
    this.rows += 1;
    if (this.pending.length >= FLUSH_CHARS) {
      this.hash.update(this.pending);
      this.pending = '';
    }
  }

  digest(): string {
    if (this.pending.length > 0) this.hash.update(this.pending);
    this.pending = '';
    return this.hash.digest('hex');
  }
}

/** A checksum over slices' checksums, in key order: equal iff every slice is. */
export function combineChecksums(parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]!;
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p}\n`);
  return h.digest('hex');
}
