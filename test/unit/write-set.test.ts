import { describe, expect, it } from 'vitest';
import { serverBatchRows, writeSetNotice, writeSetSplitter } from '../../src/copy/write-set.js';

const rows = (n: number, text = 'x'.repeat(36)) =>
  Array.from({ length: n }, (_, i) => [i, text, 1, 'VCPU', null]);

describe('write-set splitting', () => {
  it('leaves a batch whole without limits', () => {
    const batch = rows(5000);
    expect(writeSetSplitter(null)(batch)).toEqual([batch]);
    expect(writeSetNotice(null, 2000)).toBeNull();
  });

  it('cuts a batch into pieces under the row limit, in order, losing nothing', () => {
    const batch = rows(2500);
    const pieces = writeSetSplitter({ node: 'n', rows: 1000, bytes: 2 ** 31 - 1, annotate: true })(
      batch,
    );
    expect(pieces.map((p) => p.length)).toEqual([990, 990, 520]);
    expect(pieces.flat()).toEqual(batch);
  });

  it('keeps each piece under half the byte limit, counting the statement text when annotated', () => {
    const limits = { node: 'n', rows: 0, bytes: 256 * 1024, annotate: true };
    const pieces = writeSetSplitter(limits)(rows(3000));
    expect(pieces.length).toBeGreaterThan(2);
    for (const p of pieces) {
      const bytes = p.reduce((a) => a + 2 * (24 + 12 + 39 + 12 + 7 + 4), 0);
      expect(bytes).toBeLessThanOrEqual(limits.bytes / 2);
    }
    const plain = writeSetSplitter({ ...limits, annotate: false })(rows(3000));
    expect(plain.length).toBeLessThan(pieces.length);
  });

  it('a row larger than the budget still goes, alone', () => {
    const big = rows(3, 'y'.repeat(10_000));
    const pieces = writeSetSplitter({ node: 'n', rows: 0, bytes: 8192, annotate: false })(big);
    expect(pieces.map((p) => p.length)).toEqual([1, 1, 1]);
  });

  it('says so when the limits shape the batches, and not when they are far away', () => {
    expect(writeSetNotice({ node: 'node2', rows: 1000, bytes: 262144, annotate: true }, 2000)).toBe(
      'The target is a Galera node (node2) whose write sets hold at most 1,000 rows and 256 KiB (statements annotated): batches of 2,000 rows are written in pieces that fit.',
    );
    expect(
      writeSetNotice({ node: 'node2', rows: 0, bytes: 2 ** 31 - 1, annotate: true }, 2000),
    ).toBeNull();
  });
});

describe('serverBatchRows: INSERT … SELECT batches under the write-set limits', () => {
  const limits = (rows: number, bytes: number) => ({ node: 'n1', rows, bytes, annotate: false });
  it('keeps --batch-size without limits, or under generous ones', () => {
    expect(serverBatchRows(null, 2000)).toBe(2000);
    expect(serverBatchRows(limits(0, 2 ** 31 - 1), 2000)).toBe(2000);
  });
  it('stays below wsrep_max_ws_rows and within half of wsrep_max_ws_size at 2 KiB a row', () => {
    expect(serverBatchRows(limits(1000, 2 ** 31 - 1), 2000)).toBe(990);
    expect(serverBatchRows(limits(0, 256 * 1024), 2000)).toBe(64);
    expect(serverBatchRows(limits(5, 1024), 2000)).toBe(1);
  });
});
