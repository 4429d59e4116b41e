import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { withDatabaseErrors } from '../db/errors.js';
import { SchemaStateError } from '../errors/errors.js';
import {
  findRevision,
  HEAD,
  INITIAL_REVISION,
  releaseOf,
  releasesKnowing,
  resolveRevisionTarget,
  REVISIONS,
  revisionIndex,
  upgradePath,
  type SchemaOps,
} from '../migrations/index.js';
import { INITIAL_TABLES } from '../migrations/b4ed3a175331-initial.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import type { SchemaSnapshot, TableDef } from './model.js';

export const VERSION_TABLE = 'alembic_version';
const LOCK_NAME = 'placement-upgrade-schema';

/** The table alembic keeps its revision in, exactly as alembic creates it. */
const VERSION_TABLE_DEF: TableDef = {
  name: VERSION_TABLE,
  columns: [{ name: 'version_num', type: { kind: 'varchar', length: 32 }, nullable: false }],
  primaryKey: ['version_num'],
  primaryKeyName: 'alembic_version_pkc',
};

/** Every table placement's schema can contain, at any revision. */
export const PLACEMENT_TABLES: readonly string[] = [
  ...INITIAL_TABLES.map((t) => t.name),
  'consumer_types',
].sort();

/** What `db version` reports. */
export interface SchemaVersion {
  /** The stamped revision, or null when the database is not versioned. */
  revision: string | null;
  /** The placement release that introduced the revision (stein, train, xena, 2023.2). */
  release: string | null;
  /** Every placement release whose placement-manage accepts this revision. */
  knownToReleases: string[];
  head: string;
  isHead: boolean;
  /** Placement tables that exist (they may exist without a revision). */
  placementTables: string[];
}

/** What `db sync` did. */
export interface SyncResult {
  from: string | null;
  to: string;
  release: string | null;
  applied: { revision: string; description: string; ms: number }[];
  /** True when the database was already at the target. */
  upToDate: boolean;
}

/** What `db stamp` did. */
export interface StampResult {
  previous: string | null;
  revision: string;
  release: string | null;
}

async function readVersionRows(db: Knex): Promise<string[]> {
  const rows = await db(VERSION_TABLE).select('version_num');
  return rows.map((r: { version_num: string }) => r.version_num);
}

/** Reads the stamped revision; refuses states alembic itself would refuse. */
async function currentRevision(
  database: Database,
  db: Knex = database.knex,
): Promise<{ revision: string | null; tables: string[] }> {
  const tables = await database.dialect.listTables(db);
  if (!tables.includes(VERSION_TABLE)) return { revision: null, tables };
  const rows = await readVersionRows(db);
  if (rows.length > 1) {
    throw new SchemaStateError(
      `The ${VERSION_TABLE} table holds ${rows.length} revisions (${rows.join(', ')}); placement's history has a single branch.`,
      `Inspect it and keep one row, e.g. with "placement-upgrade db stamp <revision>".`,
    );
  }
  return { revision: rows[0] ?? null, tables };
}

function unknownRevisionError(revision: string): SchemaStateError {
  return new SchemaStateError(
    `The database is stamped with revision "${revision}", which placement-upgrade does not know.`,
    `It was probably written by a newer placement release than this tool knows (known revisions: ${REVISIONS.map((r) => r.id).join(', ')}), or it is not a placement database. Upgrade placement-upgrade, or check the connection.`,
    { revision },
  );
}

/** The revision in alembic_version (null: none), read as db sync reads it. */
export async function readSchemaRevision(database: Database): Promise<string | null> {
  return (await currentRevision(database)).revision;
}

/**
 * Throws what db sync would refuse before changing anything: a revision this
 * tool does not know, or a target older than the database (placement has no
 * downgrades). migrate asks it in the plan, before it writes a row.
 */
export function refuseUpgrade(from: string | null, target: string, release?: string): void {
  if (from !== null && !findRevision(from)) throw unknownRevisionError(from);
  if (revisionIndex(target) < revisionIndex(from)) {
    throw new SchemaStateError(
      `The database is at revision ${from} (${releaseOf(from!)}), newer than the requested ${target}${release ? ` (${release})` : ''}; placement has no downgrades.`,
      `Leave it at ${from} (ask for --revision ${from} or later), or restore a backup taken before the upgrade if you must run an older placement release.`,
      { revision: from, target },
    );
  }
}

/** Reads the revision and what it means, without changing anything. */
export async function getSchemaVersion(database: Database): Promise<SchemaVersion> {
  const { revision, tables } = await withDatabaseErrors(database, 'reading the revision', () =>
    currentRevision(database),
  );
  const placementTables = tables.filter((t) => PLACEMENT_TABLES.includes(t));
  if (revision !== null && !findRevision(revision)) throw unknownRevisionError(revision);
  return {
    revision,
    release: revision === null ? null : (releaseOf(revision) ?? null),
    knownToReleases: revision === null ? [] : releasesKnowing(revision),
    head: HEAD,
    isHead: revision === HEAD,
    placementTables,
  };
}

function schemaOps(database: Database, db: Knex): SchemaOps {
  const { dialect } = database;
  const run = async (statements: string[]) => {
    for (const sql of statements) await db.raw(sql);
  };
  return {
    db,
    dialect,
    createTable: (t) => run(dialect.createTableSql(t)),
    createIndex: (table, index) => run([dialect.createIndexSql(table, index)]),
    dropIndex: (table, index) => run([dialect.dropIndexSql(table, index)]),
    async addColumn(table, column, fk) {
      const [add, ...key] = dialect.addColumnSql(table, column, fk);
      await run([add!]);
      if (key.length === 0) return;
      // The new column holds only NULLs: its key needs no check of the rows.
      const session = dialect.newColumnKeySession;
      if (session.enter.length === 0) return run(key);
      // One connection for the settings and the statements they are for.
      await db.transaction(async (trx) => {
        for (const sql of session.enter) await trx.raw(sql);
        try {
          for (const sql of key) await trx.raw(sql);
        } finally {
          for (const sql of session.exit) await trx.raw(sql);
        }
      });
    },
  };
}

/**
 * Schema operations for an engine whose DDL commits statement by statement
 * (MySQL): a run stopped inside a revision leaves part of it behind while
 * alembic_version still names the revision before, so every statement of
 * that revision would fail on the next run ("table exists"). These look at
 * the schema as it was when the revision started and do only what is
 * missing. A table that exists but is not the table the revision creates is
 * refused, never adopted.
 */
function resumableOps(
  database: Database,
  db: Knex,
  snapshot: SchemaSnapshot,
  revision: string,
): SchemaOps {
  const { dialect } = database;
  const plain = schemaOps(database, db);
  const run = async (statements: string[]) => {
    for (const sql of statements) await db.raw(sql);
  };
  const hasIndex = (table: string, name: string) =>
    snapshot.tables[table]?.indexes.some((i) => i.name === name) ?? false;
  return {
    ...plain,
    async createTable(t) {
      const existing = snapshot.tables[t.name];
      if (!existing) return plain.createTable(t);
      const have = existing.columns.map((c) => c.name).sort();
      const want = t.columns.map((c) => c.name).sort();
      if (have.join() !== want.join()) {
        throw new SchemaStateError(
          `Revision ${revision} creates the table ${t.name}, which already exists with other columns (${have.join(', ')}; the revision creates ${want.join(', ')}).`,
          `An interrupted run would have left the revision's own table. Find out where this one came from; if it holds nothing you need, drop it and run db sync again.`,
          { revision, table: t.name },
        );
      }
      const missing = (t.indexes ?? []).filter((i) => !hasIndex(t.name, i.name));
      for (const index of missing) await plain.createIndex(t.name, index);
    },
    async createIndex(table, index) {
      if (!hasIndex(table, index.name)) await plain.createIndex(table, index);
    },
    async dropIndex(table, index) {
      if (hasIndex(table, index)) await plain.dropIndex(table, index);
    },
    async addColumn(table, column, fk) {
      const existing = snapshot.tables[table];
      if (!existing?.columns.some((c) => c.name === column.name)) {
        return plain.addColumn(table, column, fk);
      }
      const sameKey = (f: SchemaSnapshot['tables'][string]['foreignKeys'][number]) =>
        f.refTable === fk?.refTable && f.columns.join() === fk.columns.join();
      if (fk && !existing.foreignKeys.some(sameKey)) {
        await run([dialect.addForeignKeySql(table, column.name, fk)]);
      }
    },
  };
}

async function writeRevision(db: Knex, previous: string | null, next: string): Promise<void> {
  if (previous === null) {
    await db(VERSION_TABLE).del();
    await db(VERSION_TABLE).insert({ version_num: next });
  } else {
    await db(VERSION_TABLE).where({ version_num: previous }).update({ version_num: next });
  }
}

/**
 * An empty alembic_version beside some of the initial revision's tables, on
 * an engine whose DDL is not transactional: a db sync (ours or
 * placement-manage's) stopped while creating the initial tables. The next
 * run finishes them (resumableOps checks that each one is the table the
 * revision creates).
 */
function interruptedInitialRevision(
  database: Database,
  tables: readonly string[],
  present: readonly string[],
): boolean {
  const initial = new Set(INITIAL_TABLES.map((t) => t.name));
  return (
    !database.dialect.supportsTransactionalDdl &&
    tables.includes(VERSION_TABLE) &&
    !looksLikeNovaApi(tables) &&
    present.every((t) => initial.has(t))
  );
}

/** nova_api's own bookkeeping: sqlalchemy-migrate's table, or the cell mappings every nova_api has. */
export function looksLikeNovaApi(tables: readonly string[]): boolean {
  return tables.includes('migrate_version') || tables.includes('cell_mappings');
}

/**
 * Upgrades the schema from whatever is stamped (or from empty) to `target`
 * (a revision id or a release name; default head), under the schema lock.
 * Re-running at the target changes nothing.
 */
export async function syncSchema(
  database: Database,
  options: { target?: string; lockTimeoutSeconds?: number; onProgress?: ProgressListener } = {},
): Promise<SyncResult> {
  const { revision: target, release } = resolveRevisionTarget(options.target);
  const progress = options.onProgress ?? ignoreProgress;
  const db = database.knex;
  return withDatabaseErrors(database, 'upgrading the schema', () =>
    database.dialect.withSchemaLock(
      db,
      LOCK_NAME,
      options.lockTimeoutSeconds ?? 60,
      async () => {
        const { revision: from, tables } = await currentRevision(database, db);
        refuseUpgrade(from, target, release);
        if (from === null) {
          const present = tables.filter((t) => PLACEMENT_TABLES.includes(t));
          if (present.length > 0 && !interruptedInitialRevision(database, tables, present)) {
            const novaApi = looksLikeNovaApi(tables);
            throw new SchemaStateError(
              `The database already has placement tables (${present.join(', ')}) but no revision in ${VERSION_TABLE}, so it is unclear which schema they have.`,
              novaApi
                ? 'This looks like a nova_api database, not a placement database: point the placement connection at placement\'s own database, and use "placement-upgrade migrate" to copy the data.'
                : `If these tables came from a copy of nova_api's placement tables (the upstream migrate-db script), stamp the initial revision with "placement-upgrade db stamp ${INITIAL_REVISION}" and run db sync again.`,
              { tables: present },
            );
          }
        }
        const path = upgradePath(from, target);
        const applied: SyncResult['applied'] = [];
        if (path.length > 0 && !tables.includes(VERSION_TABLE)) {
          for (const sql of database.dialect.createTableSql(VERSION_TABLE_DEF)) await db.raw(sql);
        }
        let current = from;
        for (const rev of path) {
          progress({ type: 'revision-start', revision: rev.id, description: rev.description });
          const started = performance.now();
          const ops = database.dialect.supportsTransactionalDdl
            ? schemaOps(database, db)
            : resumableOps(database, db, await database.dialect.introspect(db), rev.id);
          await rev.upgrade(ops);
          await writeRevision(db, current, rev.id);
          current = rev.id;
          const ms = Math.round(performance.now() - started);
          applied.push({ revision: rev.id, description: rev.description, ms });
          progress({ type: 'revision-done', revision: rev.id, description: rev.description, ms });
        }
        return {
          from,
          to: target,
          release: release ?? releaseOf(target) ?? null,
          applied,
          upToDate: path.length === 0,
        };
      },
      (message) => progress({ type: 'step', step: 'lock', message }),
    ),
  );
}

/** Writes `target` into alembic_version without running anything, as `alembic stamp` does. */
export async function stampSchema(
  database: Database,
  options: { target: string; lockTimeoutSeconds?: number },
): Promise<StampResult> {
  const { revision, release } = resolveRevisionTarget(options.target);
  const db = database.knex;
  return withDatabaseErrors(database, 'stamping the revision', () =>
    database.dialect.withSchemaLock(db, LOCK_NAME, options.lockTimeoutSeconds ?? 60, async () => {
      const tables = await database.dialect.listTables(db);
      let previous: string | null = null;
      if (!tables.includes(VERSION_TABLE)) {
        for (const sql of database.dialect.createTableSql(VERSION_TABLE_DEF)) await db.raw(sql);
      } else {
        const rows = await readVersionRows(db);
        previous = rows.length === 1 ? rows[0]! : null;
        await db(VERSION_TABLE).del();
      }
      await db(VERSION_TABLE).insert({ version_num: revision });
      return { previous, revision, release: release ?? releaseOf(revision) ?? null };
    }),
  );
}
