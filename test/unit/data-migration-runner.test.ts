/**
 * placement-manage's loop and exit codes, on scripted migrations: which
 * batch sizes each migration is offered, when the loop stops, and how
 * failures, unfixable rows and --max-count combine into 0, 1 or 2.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import { runOnlineDataMigrations } from '../../src/data-migrations/runner.js';
import type { BatchResult, OnlineDataMigration } from '../../src/data-migrations/types.js';

/** A migration with `rows` to fix, `fixable` of them fixable, that may throw on given calls. */
function scripted(
  name: string,
  rows: number,
  options: { unfixable?: number; throwOn?: number[] } = {},
): OnlineDataMigration & { offered: number[] } {
  const offered: number[] = [];
  let left = rows;
  return {
    name,
    summary: name,
    offered,
    start:
      () =>
      async (batchSize): Promise<BatchResult> => {
        offered.push(batchSize);
        if (options.throwOn?.includes(offered.length)) throw new Error(`${name} broke`);
        const done = Math.min(left, batchSize);
        left -= done;
        const unfixable = options.unfixable ?? 0;
        if (done < batchSize && unfixable > 0) {
          return {
            found: done + unfixable,
            done,
            unfixable: { rows: unfixable, reason: 'r', hint: 'h' },
          };
        }
        return { found: done, done };
      },
  };
}

/** A database that is not a Galera node: no write-set limits. */
const db = { dialect: {} } as unknown as Database;

/** A Galera node whose write sets hold at most `rows` rows. */
const galeraNode = (rows: number) =>
  ({
    dialect: {
      writeSetLimits: () =>
        Promise.resolve({ node: 'node2', rows, bytes: 2 ** 31 - 1, annotate: true }),
    },
    knex: {},
  }) as unknown as Database;

describe('runOnlineDataMigrations', () => {
  it('batches of 50 shared in order until a batch migrates nothing: exit 0', async () => {
    const a = scripted('a', 30);
    const b = scripted('b', 100);
    const run = await runOnlineDataMigrations(db, { migrations: [a, b] });
    // Batch 1: a takes 30, b is offered the other 20; then b alone; a last empty batch.
    expect(a.offered).toEqual([50, 50, 50, 50]);
    expect(b.offered).toEqual([20, 50, 50, 50]);
    expect(run.batches).toBe(4);
    expect(run.migrations).toEqual([
      { name: 'a', found: 30, done: 30 },
      { name: 'b', found: 100, done: 100 },
    ]);
    expect(run.exitCode).toBe(0);
  });

  it('a batch filled by the first migration does not call the next', async () => {
    const a = scripted('a', 120);
    const b = scripted('b', 0);
    const run = await runOnlineDataMigrations(db, { maxCount: 50, migrations: [a, b] });
    expect(b.offered).toEqual([]);
    expect(run.migrations).toEqual([{ name: 'a', found: 50, done: 50 }]);
    expect(run.exitCode).toBe(1);
  });

  it('--max-count: one batch; 1 when it did work, 0 when it did not', async () => {
    expect(
      (await runOnlineDataMigrations(db, { maxCount: 10, migrations: [scripted('a', 5)] }))
        .exitCode,
    ).toBe(1);
    expect(
      (await runOnlineDataMigrations(db, { maxCount: 10, migrations: [scripted('a', 0)] }))
        .exitCode,
    ).toBe(0);
  });

  it('a migration that throws: the others still run; 2 when the last batch failed', async () => {
    const a = scripted('a', 10, { throwOn: [1, 2, 3] });
    const b = scripted('b', 60);
    const run = await runOnlineDataMigrations(db, { migrations: [a, b] });
    expect(b.offered).toEqual([50, 50, 50]);
    expect(run.errors.map((e) => [e.migration, e.batch])).toEqual([
      ['a', 1],
      ['a', 2],
      ['a', 3],
    ]);
    expect(run.failed).toBe(true);
    expect(run.exitCode).toBe(2);
  });

  it('--max-count: a failure does not count when other work progressed (placement-manage)', async () => {
    const run = await runOnlineDataMigrations(db, {
      maxCount: 50,
      migrations: [scripted('a', 10, { throwOn: [1] }), scripted('b', 60)],
    });
    expect(run.failed).toBe(false);
    expect(run.exitCode).toBe(1);
  });

  it('rows that need a human end in 2, reported once from the last batch', async () => {
    const run = await runOnlineDataMigrations(db, {
      migrations: [scripted('a', 70, { unfixable: 2 })],
    });
    expect(run.unfixable).toEqual([{ migration: 'a', rows: 2, reason: 'r', hint: 'h' }]);
    expect(run.migrations).toEqual([{ name: 'a', found: 74, done: 70 }]);
    expect(run.exitCode).toBe(2);
  });
  it('a --max-count batch larger than a Galera write set runs as several transactions whose counts add up', async () => {
    const a = scripted('a', 70);
    const warnings: string[] = [];
    const run = await runOnlineDataMigrations(galeraNode(30), {
      maxCount: 100,
      migrations: [a],
      onProgress: (e) => {
        if (e.type === 'warning') warnings.push(e.message);
      },
    });
    // 30 rows a write set, 10 kept free: transactions of 20, until one migrates fewer than asked.
    expect(a.offered).toEqual([20, 20, 20, 20]);
    expect(run.migrations).toEqual([{ name: 'a', found: 70, done: 70 }]);
    expect(run.exitCode).toBe(1);
    expect(warnings).toEqual([
      'The database is a Galera node whose write sets hold at most 30 rows: each batch of 100 is run as several transactions of up to 20 rows.',
    ]);
    // Batches of 50 (no --max-count) fit as they are: nothing changes.
    const b = scripted('b', 70);
    await runOnlineDataMigrations(galeraNode(1000), { migrations: [b] });
    expect(b.offered).toEqual([50, 50, 50]);
  });
});
