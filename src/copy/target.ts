import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { PLACEMENT_TABLES, VERSION_TABLE } from '../schema/migrator.js';
import type { ColumnDef, TableDef } from '../schema/model.js';
import { PlacementUpgradeError } from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';
import {
  FIRST_CUSTOM_RESOURCE_CLASS_ID,
  standardResourceClasses,
  standardTraits,
} from '../standard/standard-names.js';
import { countRows } from './reader.js';
import { COPY_TABLES } from './tables.js';

/**
 * Marks a target that a migrate run is filling. Created before the first
 * row is written and dropped only when every phase the run asked for is
 * done (copied, verified, online data migrations, schema at the asked
 * revision), so its presence means "a migration of placement-upgrade that
 * has not finished", never "someone's data". Every other command refuses a
 * database that has it (refuseUnfinishedMigration).
 */
export const RUN_TABLE = 'placement_upgrade_migration';

export const RUN_TABLE_DEF: TableDef = {
  name: RUN_TABLE,
  columns: [
    { name: 'id', type: { kind: 'integer' }, nullable: false },
    { name: 'source', type: { kind: 'varchar', length: 255 }, nullable: false },
    { name: 'started_at', type: { kind: 'varchar', length: 32 }, nullable: false },
    ...runColumns(),
  ],
  primaryKey: ['id'],
};

/** The columns added after the first release of the marker: a run of an older version lacks them. */
function runColumns(): ColumnDef[] {
  return [
    { name: 'phase', type: { kind: 'varchar', length: 16 }, nullable: true },
    { name: 'plan', type: { kind: 'text' }, nullable: true },
  ];
}

/**
 * Where a migration stands. `copy`: rows are being copied and verified;
 * `finish`: every table is copied and verified, the online data migrations
 * and the schema upgrade remain.
 */
export type RunPhase = 'copy' | 'finish';

/** What a run recorded so that any later run, whatever its flags, resumes it correctly. */
export interface RunPlan {
  /** Tables whose copy was verified complete (a --tables run copies only some). */
  verified: string[];
  /**
   * The key ranges each table is copied in, as [above, upTo] (null: open).
   * Each range is filled in key order, so only the range's own greatest key
   * says where it stops: a resume must cut the table the same way.
   */
  ranges: Record<string, [number | null, number | null][]>;
}

export interface RunRecord {
  source: string;
  startedAt: string;
  phase: RunPhase;
  plan: RunPlan;
}

const EMPTY_PLAN: RunPlan = { verified: [], ranges: {} };

function parsePlan(text: unknown): RunPlan {
  if (typeof text !== 'string' || text === '') return { ...EMPTY_PLAN };
  try {
    const p = JSON.parse(text) as Partial<RunPlan>;
    return { verified: p.verified ?? [], ranges: p.ranges ?? {} };
  } catch {
    return { ...EMPTY_PLAN };
  }
}

/** Reads the marker of an unfinished migration, or null when there is none. */
export async function readRun(target: Database): Promise<RunRecord | null> {
  const tables = await target.dialect.listTables(target.knex);
  if (!tables.includes(RUN_TABLE)) return null;
  const row = (await target.knex(RUN_TABLE).first()) as Record<string, unknown> | undefined;
  return {
    source: String(row?.['source'] ?? 'unknown'),
    startedAt: String(row?.['started_at'] ?? 'unknown'),
    phase: row?.['phase'] === 'finish' ? 'finish' : 'copy',
    plan: parsePlan(row?.['plan']),
  };
}

/** Creates the marker before anything else is written. */
export async function createRun(target: Database, source: string): Promise<void> {
  for (const sql of target.dialect.createTableSql(RUN_TABLE_DEF)) await target.knex.raw(sql);
  await target.knex(RUN_TABLE).insert({
    id: 1,
    source: source.slice(0, 255),
    started_at: new Date().toISOString(),
    phase: 'copy',
    plan: JSON.stringify(EMPTY_PLAN),
  });
}

/** Gives a marker left by an older version the columns this one records in. */
export async function upgradeRunTable(target: Database): Promise<void> {
  const snapshot = await target.dialect.introspect(target.knex);
  const have = new Set(snapshot.tables[RUN_TABLE]?.columns.map((c) => c.name));
  for (const column of runColumns()) {
    if (have.has(column.name)) continue;
    for (const sql of target.dialect.addColumnSql(RUN_TABLE, column)) await target.knex.raw(sql);
  }
}

/** Records the run's phase and plan; each write commits on its own. */
export async function saveRun(
  target: Database,
  update: { phase?: RunPhase; plan?: RunPlan },
): Promise<void> {
  const row: Record<string, string> = {};
  if (update.phase) row['phase'] = update.phase;
  if (update.plan) row['plan'] = JSON.stringify(update.plan);
  await target.knex(RUN_TABLE).where({ id: 1 }).update(row);
}

/** The last step of a migration: the target is placement's own from now on. */
export async function dropRun(target: Database): Promise<void> {
  await target.knex.schema.dropTableIfExists(RUN_TABLE);
}

/**
 * Refuses a database that a migration has not finished: db sync would move
 * its schema past rows still to come, the online data migrations would
 * invent consumers that the copy then collides with, and verify or the API
 * would vouch for half the data. Exit 25, naming the command that finishes it.
 */
export async function refuseUnfinishedMigration(target: Database, what: string): Promise<void> {
  const run = await readRun(target);
  if (!run) return;
  throw new UnfinishedMigrationError(target.display, run, what);
}

export class UnfinishedMigrationError extends PlacementUpgradeError {
  constructor(display: string, run: RunRecord, what: string) {
    super(
      'unfinished_migration',
      ExitCode.UNFINISHED_MIGRATION,
      `${display} holds a migration that has not finished (started ${run.startedAt} from ${run.source}, ${run.phase === 'copy' ? 'still copying' : 'copied and verified; the online data migrations and schema upgrade remain'}): ${what} would act on a database that is not yet placement's. Nothing was changed.`,
      {
        hint: 'Finish it first: run the same "placement-upgrade migrate --apply" again (it resumes), or "migrate --apply --restart" to copy again.',
        details: { phase: run.phase, source: run.source, startedAt: run.startedAt },
      },
    );
  }
}

export type TargetState =
  /** No placement tables at all. */
  | { kind: 'empty' }
  /** Placement's schema, every table empty (e.g. db sync ran first). */
  | { kind: 'empty-schema'; revision: string | null }
  /** Only the standard traits/classes a placement service inserts when it starts. */
  | { kind: 'startup-rows-only'; revision: string | null; traits: number; resourceClasses: number }
  /** An earlier migrate run that did not finish. */
  | { kind: 'interrupted'; revision: string | null; run: RunRecord }
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
  const run = tables.includes(RUN_TABLE) ? await readRun(target) : null;
  if (run) return { state: { kind: 'interrupted', revision, run }, rows };
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
