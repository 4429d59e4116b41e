/**
 * Bulk loads: the units a copy is cut into (key ranges of large tables), and
 * the plain indexes of allocations and consumers built after their copy.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { INITIAL_TABLES } from '../migrations/b4ed3a175331-initial.js';
import type { ProgressListener } from '../progress/events.js';
import type { IndexDef } from '../schema/model.js';
import type { CopyUnit } from './copy.js';
import { splitKeyRange } from './reader.js';
import { copyTable as tableSpec } from './tables.js';
import type { RunPlan } from './target.js';

/**
 * The two tables whose plain (non-unique) indexes a bulk load builds after
 * the copy instead of maintaining row by row: one sorted build costs a
 * fraction (1M allocations on MariaDB: 11.9 s to insert with the indexes;
 * 3.3 s without, plus 3.1 s to build them). No later revision drops or renames
 * these indexes, so the initial revision's list is what every target
 * revision expects, and a resumed run can rebuild what a killed one dropped.
 */
export const DEFERRED_INDEX_TABLES = ['allocations', 'consumers'] as const;

function deferredIndexes(table: string): IndexDef[] {
  return INITIAL_TABLES.find((d) => d.name === table)?.indexes ?? [];
}

/** Drops the deferred indexes of `tables` that exist, before their bulk load. */
export async function dropDeferredIndexes(
  target: Database,
  tables: readonly string[],
): Promise<void> {
  if (tables.length === 0) return;
  const snapshot = await target.dialect.introspect(target.knex);
  for (const table of tables) {
    const present = new Set(snapshot.tables[table]?.indexes.map((i) => i.name));
    for (const index of deferredIndexes(table)) {
      if (present.has(index.name))
        await target.knex.raw(target.dialect.dropIndexSql(table, index.name));
    }
  }
}

/** The deferred indexes of `tables` that the target lacks. */
async function missingDeferredIndexes(
  target: Database,
  tables: readonly string[],
): Promise<{ table: string; indexes: IndexDef[] }[]> {
  const snapshot = await target.dialect.introspect(target.knex);
  return tables
    .map((table) => {
      const present = new Set(snapshot.tables[table]?.indexes.map((i) => i.name));
      return { table, indexes: deferredIndexes(table).filter((i) => !present.has(i.name)) };
    })
    .filter((m) => m.indexes.length > 0);
}

/** Builds a table's missing deferred indexes, in one pass where the engine can. */
export async function buildDeferredIndexes(
  target: Database,
  writers: Knex,
  tables: readonly string[],
  progress: ProgressListener,
): Promise<void> {
  const missing = await missingDeferredIndexes(target, tables);
  if (missing.length === 0) return;
  progress({
    type: 'step',
    step: 'indexes',
    message: `Building the index(es) of ${missing.map((m) => m.table).join(', ')} deferred during the copy`,
  });
  // One table per writer connection at once.
  await Promise.all(
    missing.map(async ({ table, indexes }) => {
      for (const sql of target.dialect.createIndexesSql(table, indexes)) await writers.raw(sql);
    }),
  );
}

/** Tables whose rows `table` references by foreign key (itself aside): copied first. */
export function referencedTables(table: string): string[] {
  const def = INITIAL_TABLES.find((d) => d.name === table);
  return [...new Set((def?.foreignKeys ?? []).map((f) => f.refTable))].filter((t) => t !== table);
}

/** A table worth loading in bulk by default (slices, deferred indexes): this many rows or more. */
export const BULK_MIN_ROWS = 50_000;

/**
 * The units of work of the copy: with several writers, each large table with
 * a single integer key that no foreign key touches (allocations, consumers,
 * inventories …) is cut into one key range per writer; everything else is
 * copied whole. Largest first, so the writers finish together.
 */
export async function planCopyUnits(
  conn: Knex,
  dialect: Database['dialect'],
  tables: readonly string[],
  rows: Record<string, number>,
  {
    parallel,
    minRows,
    recorded,
  }: { parallel: number; minRows: number; recorded: RunPlan['ranges'] },
): Promise<CopyUnit[]> {
  const units: (CopyUnit & { size: number })[] = [];
  // A table an earlier run started is cut as that run cut it.
  const fresh: string[] = [];
  for (const table of tables) {
    const ranges = recorded[table];
    if (!ranges) fresh.push(table);
    else {
      for (const [above, upTo] of ranges) {
        const range = above === null && upTo === null ? null : { above, upTo };
        units.push({ table, range, size: (rows[table] ?? 0) / ranges.length });
      }
    }
  }
  if (parallel <= 1)
    units.push(...fresh.map((table) => ({ table, range: null, size: rows[table] ?? 0 })));
  else await splitLargeTables(conn, dialect, fresh, rows, { parallel, minRows }, units);
  return units.sort((a, b) => b.size - a.size).map(({ table, range }) => ({ table, range }));
}

/** Cuts each large table with a single integer key that no foreign key touches into `parallel` key ranges. */
async function splitLargeTables(
  conn: Knex,
  dialect: Database['dialect'],
  tables: readonly string[],
  rows: Record<string, number>,
  { parallel, minRows }: { parallel: number; minRows: number },
  units: (CopyUnit & { size: number })[],
): Promise<void> {
  const touchedByKeys = new Set(
    INITIAL_TABLES.flatMap((d) => (d.foreignKeys ?? []).flatMap((f) => [d.name, f.refTable])),
  );
  for (const table of tables) {
    const spec = tableSpec(table);
    const n = rows[table] ?? 0;
    if (n < minRows || spec.key.length !== 1 || !spec.autoincrement || touchedByKeys.has(table)) {
      units.push({ table, range: null, size: n });
      continue;
    }
    const key = dialect.quote(spec.key[0]!);
    const [b] = dialect.rows<{ lo: number | string | null; hi: number | string | null }>(
      await conn.raw(`SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${dialect.quote(table)}`),
    );
    const ranges = splitKeyRange(Number(b?.lo ?? 0), Number(b?.hi ?? 0), parallel);
    for (const range of ranges) units.push({ table, range, size: n / ranges.length });
  }
}
