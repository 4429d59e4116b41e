import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { PLACEMENT_TABLES, VERSION_TABLE } from '../schema/migrator.js';
import type { TableDef } from '../schema/model.js';
import {
  FIRST_CUSTOM_RESOURCE_CLASS_ID,
  standardResourceClasses,
  standardTraits,
} from '../standard/standard-names.js';
import { countRows } from './reader.js';
import { COPY_TABLES } from './tables.js';

/**
 * Marks a target that a migrate run is filling. Created before the first
 * row is written and dropped once the copy is verified, so its presence
 * means "an interrupted run of placement-upgrade", never "someone's data".
 */
export const RUN_TABLE = 'placement_upgrade_migration';

export const RUN_TABLE_DEF: TableDef = {
  name: RUN_TABLE,
  columns: [
    { name: 'id', type: { kind: 'integer' }, nullable: false },
    { name: 'source', type: { kind: 'varchar', length: 255 }, nullable: false },
    { name: 'started_at', type: { kind: 'varchar', length: 32 }, nullable: false },
  ],
  primaryKey: ['id'],
};

export type TargetState =
  /** No placement tables at all. */
  | { kind: 'empty' }
  /** Placement's schema, every table empty (e.g. db sync ran first). */
  | { kind: 'empty-schema'; revision: string | null }
  /** Only the standard traits/classes a placement service inserts when it starts. */
  | { kind: 'startup-rows-only'; revision: string | null; traits: number; resourceClasses: number }
  /** An earlier migrate run that did not finish. */
  | { kind: 'interrupted'; revision: string | null; source: string; startedAt: string }
  /** Rows of some origin: either this source's, migrated already, or other data. */
  | { kind: 'populated'; revision: string | null };

async function readRevision(conn: Knex, tables: string[]): Promise<string | null> {
  if (!tables.includes(VERSION_TABLE)) return null;
  const row = (await conn(VERSION_TABLE).first('version_num')) as
    { version_num?: string } | undefined;
  return row?.version_num ?? null;
}

/** Looks at the target and says which of the states above it is in, with row counts. */
export async function classifyTarget(
  target: Database,
): Promise<{ state: TargetState; rows: Record<string, number> }> {
  const conn = target.knex;
  const tables = await target.dialect.listTables(conn);
  const rows: Record<string, number> = {};
  for (const t of COPY_TABLES)
    rows[t.name] = tables.includes(t.name) ? await countRows(conn, target.dialect, t.name) : 0;
  const revision = await readRevision(conn, tables);
  if (tables.includes(RUN_TABLE)) {
    const run = (await conn(RUN_TABLE).first('source', 'started_at')) as
      { source?: string; started_at?: string } | undefined;
    return {
      state: {
        kind: 'interrupted',
        revision,
        source: run?.source ?? 'unknown',
        startedAt: run?.started_at ?? 'unknown',
      },
      rows,
    };
  }
  if (!tables.some((t) => PLACEMENT_TABLES.includes(t))) return { state: { kind: 'empty' }, rows };
  const nonEmpty = Object.entries(rows)
    .filter(([, n]) => n > 0)
    .map(([t]) => t);
  if (nonEmpty.length === 0) return { state: { kind: 'empty-schema', revision }, rows };
  if (
    nonEmpty.every((t) => t === 'traits' || t === 'resource_classes') &&
    (await onlyStandardRows(conn))
  ) {
    return {
      state: {
        kind: 'startup-rows-only',
        revision,
        traits: rows['traits'] ?? 0,
        resourceClasses: rows['resource_classes'] ?? 0,
      },
      rows,
    };
  }
  return { state: { kind: 'populated', revision }, rows };
}

/** True when traits and resource_classes hold only standard names at standard ids. */
async function onlyStandardRows(conn: Knex): Promise<boolean> {
  const traits = new Set(standardTraits());
  const classes = standardResourceClasses();
  const traitNames = (await conn('traits').pluck('name')) as string[];
  if (traitNames.some((n) => !traits.has(n))) return false;
  const rcs = (await conn('resource_classes').select('id', 'name')) as {
    id: number;
    name: string;
  }[];
  return rcs.every(
    (r) => Number(r.id) < FIRST_CUSTOM_RESOURCE_CLASS_ID && classes[Number(r.id)] === r.name,
  );
}

/** Removes the standard rows a placement service inserted at start-up (it re-inserts them at its next start). */
export async function removeStartupRows(conn: Knex): Promise<void> {
  await conn('traits').del();
  await conn('resource_classes').del();
}
