/**
 * An independent check of a migration, written apart from src/copy: read
 * both databases whole with plain SELECTs and compare each placement table
 * row by row, after the changes a migration legitimately makes.
 */
import type { Database } from '../../src/db/connect.js';

const TABLES: Record<string, string[]> = {
  resource_classes: ['id', 'name', 'created_at', 'updated_at'],
  traits: ['id', 'name', 'created_at', 'updated_at'],
  projects: ['id', 'external_id', 'created_at', 'updated_at'],
  users: ['id', 'external_id', 'created_at', 'updated_at'],
  placement_aggregates: ['id', 'uuid', 'created_at', 'updated_at'],
  resource_providers: [
    'id',
    'uuid',
    'name',
    'generation',
    'root_provider_id',
    'parent_provider_id',
    'created_at',
    'updated_at',
  ],
  inventories: [
    'id',
    'resource_provider_id',
    'resource_class_id',
    'total',
    'reserved',
    'min_unit',
    'max_unit',
    'step_size',
    'allocation_ratio',
    'created_at',
    'updated_at',
  ],
  allocations: [
    'id',
    'resource_provider_id',
    'consumer_id',
    'resource_class_id',
    'used',
    'created_at',
    'updated_at',
  ],
  consumers: ['id', 'uuid', 'project_id', 'user_id', 'generation', 'created_at', 'updated_at'],
  resource_provider_aggregates: [
    'resource_provider_id',
    'aggregate_id',
    'created_at',
    'updated_at',
  ],
  resource_provider_traits: ['trait_id', 'resource_provider_id', 'created_at', 'updated_at'],
};

function norm(column: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (column === 'created_at' || column === 'updated_at')
    return String(v).replace('T', ' ').slice(0, 19);
  if (column === 'allocation_ratio') return Number(Number(v).toPrecision(6));
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
  if (
    /^-?\d+$/.test(String(v)) &&
    column !== 'name' &&
    column !== 'uuid' &&
    column !== 'external_id' &&
    column !== 'consumer_id'
  )
    return Number(v);
  return String(v);
}

async function readTable(db: Database, table: string): Promise<Record<string, unknown>[]> {
  const tables = await db.dialect.listTables(db.knex);
  if (!tables.includes(table)) return [];
  const info = await db.dialect.introspect(db.knex);
  const have = new Set(info.tables[table]!.columns.map((c) => c.name));
  const rows = (await db.knex(table).select('*')) as Record<string, unknown>[];
  return rows.map((r) =>
    Object.fromEntries(
      TABLES[table]!.map((c) => [c, have.has(c) ? norm(c, r[c]) : c === 'generation' ? 0 : null]),
    ),
  );
}

const keyOf = (table: string, r: Record<string, unknown>) =>
  table === 'resource_provider_aggregates'
    ? `${r['resource_provider_id']}/${r['aggregate_id']}`
    : table === 'resource_provider_traits'
      ? `${r['trait_id']}/${r['resource_provider_id']}`
      : String(r['id']);

/** Every placement table of `source` equals `target`'s, as sorted lists of normalised rows. */
export async function expectSameRows(
  source: Database,
  target: Database,
  adjust: {
    sourceRow?: (table: string, row: Record<string, unknown>) => Record<string, unknown>;
  } = {},
): Promise<Record<string, { source: number; target: number; differing: string[] }>> {
  const report: Record<string, { source: number; target: number; differing: string[] }> = {};
  for (const table of Object.keys(TABLES)) {
    const s = (await readTable(source, table)).map((r) =>
      adjust.sourceRow ? adjust.sourceRow(table, r) : r,
    );
    const t = await readTable(target, table);
    const sm = new Map(s.map((r) => [keyOf(table, r), JSON.stringify(r)]));
    const tm = new Map(t.map((r) => [keyOf(table, r), JSON.stringify(r)]));
    const differing = [...new Set([...sm.keys(), ...tm.keys()])]
      .filter((k) => sm.get(k) !== tm.get(k))
      .slice(0, 5);
    report[table] = { source: s.length, target: t.length, differing };
  }
  return report;
}

/** Asserts that every placement table of the two test databases holds the same rows. */
export async function expectIdentical(
  source: { open(): Promise<Database> },
  target: { open(): Promise<Database> },
): Promise<void> {
  const { expect } = await import('vitest');
  const [s, t] = await Promise.all([source.open(), target.open()]);
  try {
    const report = await expectSameRows(s, t);
    for (const [table, r] of Object.entries(report)) {
      expect({ table, ...r }).toEqual({ table, source: r.source, target: r.source, differing: [] });
    }
  } finally {
    await Promise.all([s.close(), t.close()]);
  }
}
