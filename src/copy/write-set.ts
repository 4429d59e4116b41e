/**
 * Galera replicates each transaction as one write set, refused whole when
 * it holds more rows than wsrep_max_ws_rows or more bytes than
 * wsrep_max_ws_size. A batch of the copy commits on its own, so fitting it
 * means cutting it into pieces, each its own statement and commit, in key
 * order (resuming after the greatest key copied stays right).
 *
 * Bytes are estimated, not measured: a row's image is about the size of its
 * values, and with binlog_annotate_row_events the statement's text (the
 * same values again, as SQL) travels too. Pieces are filled to half the
 * limit, which leaves room for the estimate's error.
 */
import type { WriteSetLimits } from '../db/dialect/dialect.js';

/** Bytes a value takes in a row image or in an INSERT's text, roughly. */
function valueBytes(v: unknown): number {
  if (v === null || v === undefined) return 4;
  if (typeof v === 'string') return Buffer.byteLength(v) + 3;
  if (v instanceof Date) return 29;
  if (Buffer.isBuffer(v)) return v.length * 2 + 3;
  return 12;
}

/** What a row costs in a write set: its image, and its text when statements are annotated. */
function rowBytes(row: readonly unknown[], annotate: boolean): number {
  let bytes = 24;
  for (const v of row) bytes += valueBytes(v);
  return annotate ? bytes * 2 : bytes;
}

/** Splits a batch into pieces that each fit one write set; the batch itself when there are no limits. */
export type BatchSplitter = (rows: unknown[][]) => unknown[][][];

export function writeSetSplitter(limits: WriteSetLimits | null): BatchSplitter {
  if (!limits) return (rows) => [rows];
  // Room for what else a statement's write set carries (keys, the table map, the statement's head).
  const maxRows = limits.rows > 0 ? Math.max(1, limits.rows - 10) : Infinity;
  const maxBytes = limits.bytes > 0 ? Math.max(4096, Math.floor(limits.bytes / 2)) : Infinity;
  return (rows) => {
    const pieces: unknown[][][] = [];
    let piece: unknown[][] = [];
    let bytes = 0;
    for (const row of rows) {
      const b = rowBytes(row, limits.annotate);
      if (piece.length > 0 && (piece.length >= maxRows || bytes + b > maxBytes)) {
        pieces.push(piece);
        piece = [];
        bytes = 0;
      }
      piece.push(row);
      bytes += b;
    }
    if (piece.length > 0) pieces.push(piece);
    return pieces;
  };
}

/** The line that says the cluster's limits shape the batches, or null when they are far away. */
export function writeSetNotice(limits: WriteSetLimits | null, batchSize: number): string | null {
  if (!limits) return null;
  const rowsBind = limits.rows > 0 && limits.rows - 10 < batchSize;
  // A generous 400 bytes a row: allocations' rows are about 160 with annotation.
  const bytesBind = limits.bytes > 0 && limits.bytes / 2 < batchSize * 400;
  if (!rowsBind && !bytesBind) return null;
  const parts = [
    limits.rows > 0 ? `${limits.rows.toLocaleString('en-US')} rows` : null,
    `${Math.round(limits.bytes / 1024).toLocaleString('en-US')} KiB${limits.annotate ? ' (statements annotated)' : ''}`,
  ].filter(Boolean);
  return `The target is a Galera node (${limits.node}) whose write sets hold at most ${parts.join(' and ')}: batches of ${batchSize.toLocaleString('en-US')} rows are written in pieces that fit.`;
}

/**
 * Rows one INSERT … SELECT batch may hold to fit the write-set limits (the
 * server-side copy cannot measure its rows, so it takes a bound: 2 KiB a
 * row, more than any placement row with its annotation), at most `batchSize`.
 */
export function serverBatchRows(limits: WriteSetLimits | null, batchSize: number): number {
  if (!limits) return batchSize;
  const byRows = limits.rows > 0 ? Math.max(1, limits.rows - 10) : Infinity;
  const byBytes = limits.bytes > 0 ? Math.max(1, Math.floor(limits.bytes / 2 / 2048)) : Infinity;
  return Math.max(1, Math.min(batchSize, byRows, byBytes));
}
