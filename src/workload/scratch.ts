/**
 * The scratch copy the workload writes to, so the production placement
 * database is never written: the same schema revision (made by this tool's
 * own db sync) and every row of every placement table, read in key order a
 * page at a time, then counted on both sides.
 */
import type { Database } from '../db/connect.js';
import { SchemaStateError } from '../errors/errors.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import { readSchemaRevision, syncSchema } from '../schema/migrator.js';

/** Placement's tables in an order its foreign keys accept, with their keys. */
const TABLES: readonly { name: string; key: string[] }[] = [
  { name: 'resource_classes', key: ['id'] },
  { name: 'traits', key: ['id'] },
  { name: 'projects', key: ['id'] },
  { name: 'users', key: ['id'] },
  { name: 'consumer_types', key: ['id'] },
  { name: 'placement_aggregates', key: ['id'] },
  { name: 'resource_providers', key: ['id'] },
  { name: 'inventories', key: ['id'] },
  { name: 'allocations', key: ['id'] },
  { name: 'consumers', key: ['id'] },
  { name: 'resource_provider_aggregates', key: ['resource_provider_id', 'aggregate_id'] },
  { name: 'resource_provider_traits', key: ['trait_id', 'resource_provider_id'] },
];

const PAGE = 1000;

type Row = Record<string, unknown>;

export interface ScratchCopy {
  revision: string;
  rows: Record<string, number>;
}

function plain(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = v instanceof Date ? v.toISOString().replace('T', ' ').replace('Z', '') : v;
  }
  return out;
}

/** Rows of one table in key order, a page at a time. */
async function* pages(db: Database, table: string, key: string[]): AsyncGenerator<Row[]> {
  let after: Row | null = null;
  for (;;) {
    const q = db.knex(table).select('*').orderBy(key).limit(PAGE);
    if (after) {
      const last: Row = after;
      if (key.length === 1) q.where(key[0]!, '>', last[key[0]!] as number);
      else {
        q.where((w) =>
          w
            .where(key[0]!, '>', last[key[0]!] as number)
            .orWhere((x) =>
              x
                .where(key[0]!, last[key[0]!] as number)
                .andWhere(key[1]!, '>', last[key[1]!] as number),
            ),
        );
      }
    }
    const rows = (await q) as Row[];
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!;
  }
}

/**
 * Parents before children: a provider is written once the one it names as
 * parent is (re-parenting can give a child a smaller id than its parent).
 */
function parentsFirst(rows: Row[], written: Set<unknown>): Row[] {
  const out: Row[] = [];
  let pending = rows;
  while (pending.length > 0) {
    const next: Row[] = [];
    for (const r of pending) {
      const parent = r['parent_provider_id'];
      if (parent === null || parent === undefined || written.has(parent)) {
        out.push(r);
        written.add(r['id']);
      } else next.push(r);
    }
    // A parent that is not among the rows at all (a dangling reference): keep the rest as they are.
    if (next.length === pending.length) return [...out, ...next];
    pending = next;
  }
  return out;
}

/**
 * Multi-row INSERTs of at most INSERT_ROWS rows: knex writes SQLite's as a
 * compound SELECT, which SQLite caps at 500 terms.
 */
const INSERT_ROWS = 250;

async function insertRows(db: Database, table: string, rows: Row[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    await db.knex(table).insert(rows.slice(i, i + INSERT_ROWS));
  }
}

/** Copies every placement row of `source` into `scratch`, which must be empty. */
export async function copyToScratch(
  source: Database,
  scratch: Database,
  onProgress: ProgressListener = ignoreProgress,
): Promise<ScratchCopy> {
  const revision = await readSchemaRevision(source);
  if (!revision) {
    throw new SchemaStateError(
      `${source.display} has no placement schema revision: there is nothing to run a workload on.`,
      'Run "placement-upgrade db sync" and migrate first.',
    );
  }
  await syncSchema(scratch, { target: revision });
  const present = new Set(await source.dialect.listTables(source.knex));
  const rows: Record<string, number> = {};
  for (const { name, key } of TABLES) {
    if (!present.has(name)) continue;
    let n = 0;
    if (name === 'resource_providers') {
      // Providers are few next to allocations: read them whole to order parents first.
      const all: Row[] = [];
      for await (const page of pages(source, name, key)) all.push(...page.map(plain));
      const ordered = parentsFirst(all, new Set());
      await insertRows(scratch, name, ordered);
      n = ordered.length;
    } else {
      for await (const page of pages(source, name, key)) {
        await insertRows(scratch, name, page.map(plain));
        n += page.length;
      }
    }
    rows[name] = n;
    if (n >= 10_000) {
      onProgress({ type: 'step', step: 'scratch', message: `scratch copy: ${name}, ${n} rows` });
    }
  }
  // The workload creates providers, consumers and more: their ids continue after the copied ones.
  for (const { name, key } of TABLES) {
    if (present.has(name) && key.length === 1 && rows[name]! > 0) {
      await scratch.dialect.advanceSequence(scratch.knex, name, 'id');
    }
  }
  for (const [name, n] of Object.entries(rows)) {
    const [{ c }] = (await scratch.knex(name).count({ c: '*' })) as [{ c: number | string }];
    if (Number(c) !== n) {
      throw new SchemaStateError(
        `The scratch copy of ${name} holds ${c} rows, not ${n}.`,
        'Run again.',
      );
    }
  }
  const total = Object.values(rows).reduce((a, b) => a + b, 0);
  onProgress({
    type: 'step',
    step: 'scratch',
    message: `scratch copy: ${total} rows in ${Object.keys(rows).length} tables, counted on both sides`,
  });
  return { revision, rows };
}
