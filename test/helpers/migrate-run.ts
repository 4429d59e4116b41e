/**
 * What the migrate path suites (server-side, COPY stream) share: the
 * arguments of an applying run, row counts on an open database, and the
 * kill -9 in the middle of a key range, timed by a row count in the target
 * (never a delay), with the resumed run's accounting checked against it.
 */
import { expect } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import type { MigrateResult } from '../../src/copy/migrate.js';
import type { CopyMethod } from '../../src/copy/copy.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { runWatching } from './cli.js';
import type { TestDatabase } from './databases.js';

type WatchedRun = Awaited<ReturnType<typeof runWatching>>;

/** `migrate --apply --revision stein` from source to target, with `extra`. */
export const applyArgs = (source: TestDatabase, target: TestDatabase, ...extra: string[]) => [
  'migrate',
  '--source',
  source.url,
  '--target',
  target.url,
  '--apply',
  '--revision',
  'stein',
  ...extra,
];

export async function rowsIn(db: Database, table: string): Promise<number> {
  const [row] = db.dialect.rows<{ n: unknown }>(
    await db.knex.raw(`SELECT COUNT(*) AS n FROM ${db.dialect.quote(table)}`),
  );
  return Number(row?.n ?? 0);
}

/**
 * Runs `args` and kills it with SIGKILL once the target's `table` holds at
 * least `atLeast` rows, after the copy of that table has begun. Fails when
 * the kill landed anywhere but inside that copy: before the path line
 * `pathLine` was printed, or once verification began, or after the table
 * was complete (`total` rows). Returns the rows the target held after the kill.
 */
export async function killInsideCopy(
  args: string[],
  target: TestDatabase,
  options: { table: string; atLeast: number; total: number; pathLine: string },
): Promise<{ killed: WatchedRun; atKill: number }> {
  const watcher = await target.open();
  try {
    const killed = await runWatching(
      args,
      (l) => l.startsWith(`copy ${options.table}`),
      async (child) => {
        for (;;) {
          const tables = await watcher.dialect.listTables(watcher.knex);
          if (
            tables.includes(options.table) &&
            (await rowsIn(watcher, options.table)) >= options.atLeast
          )
            break;
        }
        child.kill('SIGKILL');
      },
    );
    const atKill = await rowsIn(watcher, options.table);
    expect(killed.signal, killed.lines.join('\n')).toBe('SIGKILL');
    expect(killed.lines.some((l) => l.startsWith(options.pathLine))).toBe(true);
    expect(killed.lines.some((l) => l.startsWith('Verifying'))).toBe(false);
    expect(atKill).toBeGreaterThanOrEqual(options.atLeast);
    expect(atKill).toBeLessThan(options.total);
    return { killed, atKill };
  } finally {
    await watcher.close();
  }
}

/**
 * The resumed run's account of `table`: on `method`, from after a key, and
 * the rows the killed run left to copy (give or take one batch whose
 * COMMIT was on its way when the kill came, and landed after the count).
 */
export function expectResumedCopy(
  result: MigrateResult,
  options: { table: string; method: CopyMethod; total: number; atKill: number; batch: number },
): void {
  expect(result.copyPath?.path).toBe(options.method);
  const copied = result.copied.find((c) => c.table === options.table)!;
  expect(copied.method).toBe(options.method);
  expect(copied.resumedAfter).toMatch(/^id=\d+$/);
  expect(copied.rows).toBeLessThanOrEqual(options.total - options.atKill);
  expect(copied.rows).toBeGreaterThanOrEqual(options.total - options.atKill - options.batch);
}

/** The consumer of the allocation novaAddsAllocation writes. */
export const ADDED_CONSUMER = '99999999-9999-9999-9999-999999999999';

/** Writes one allocation into the source, as nova would while the copy runs. */
export async function novaAddsAllocation(db: Database): Promise<void> {
  const rp = await db.knex('resource_providers').first('id');
  await db.knex('allocations').insert({
    resource_provider_id: rp?.['id'],
    consumer_id: ADDED_CONSUMER,
    resource_class_id: 0,
    used: 1,
  });
}

/**
 * Runs `args` and has nova write an allocation once the copy of allocations
 * has begun: the run, on the path its line `pathLine` names, must end in
 * verification-failed (22) naming the table. `during` runs on the source
 * just before the write.
 */
export async function expectNovaWriteCaught(
  args: string[],
  source: TestDatabase,
  pathLine: string,
  during?: (db: Database) => Promise<void>,
): Promise<void> {
  const db = await source.open();
  try {
    const run = await runWatching(
      args,
      (l) => l.startsWith('copy allocations'),
      async () => {
        await during?.(db);
        await novaAddsAllocation(db);
      },
    );
    expect(run.actError).toBeNull();
    expect(run.lines.some((l) => l.startsWith(pathLine))).toBe(true);
    expect(run.code, run.lines.join('\n')).toBe(ExitCode.VERIFICATION_FAILED);
    expect(run.stdout).toMatch(/nova changed allocations while the copy ran/);
  } finally {
    await db.close();
  }
}
