import type { Knex } from 'knex';
import { ConnectionError, PlacementUpgradeError } from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';
import type { Dialect } from '../db/dialect/dialect.js';
import { findRevision } from '../migrations/index.js';
import { looksLikeNovaApi } from '../schema/migrator.js';
import type { SchemaSnapshot } from '../schema/model.js';
import type { TableLayout } from './reader.js';
import { COPY_TABLES } from './tables.js';
import { RUN_TABLE } from './target.js';

/** What the nova_api source looks like: which placement tables and columns it has. */
export interface SourceShape {
  /** The release its placement tables match: newton … queens, "rocky or later"; "placement" for placementDatabase. */
  release: string;
  /** nova_api's own schema version (migrate_version / alembic_version), when it has one. */
  novaSchemaVersion: string | null;
  /**
   * Not a nova_api at all but placement's own database (made by db sync or
   * by a migration): none of nova's tables, and placement's revision in
   * alembic_version (null when unstamped) or a table only placement has.
   */
  placementDatabase: { revision: string | null } | null;
  layouts: Record<string, TableLayout>;
  /** Columns the source has that placement does not (can_host). */
  extraColumns: Record<string, string[]>;
  /** MySQL: tables whose default collation is latin1 (nova's). */
  latin1Tables: string[];
  /** Every table of the database, to show that only placement's are copied. */
  allTables: string[];
}

/**
 * Reads the shape of a nova_api database's placement tables. Release
 * boundaries follow nova's api migrations: 026/029 (Ocata), 041–044 (Pike),
 * 051 (Queens), 059 (Rocky).
 */
export function describeSource(
  snapshot: SchemaSnapshot,
  novaSchemaVersion: string | null,
): SourceShape {
  const layouts: Record<string, TableLayout> = {};
  const extraColumns: Record<string, string[]> = {};
  const latin1Tables: string[] = [];
  for (const table of COPY_TABLES) {
    const t = snapshot.tables[table.name];
    const have = new Set(t?.columns.map((c) => c.name) ?? []);
    layouts[table.name] = {
      table,
      present: Boolean(t),
      columns: table.columns.filter((c) => have.has(c)),
    };
    const extra = [...have].filter((c) => !table.columns.includes(c));
    if (extra.length > 0) extraColumns[table.name] = extra;
    if (t?.collation?.startsWith('latin1')) latin1Tables.push(table.name);
  }
  const has = (table: string, column?: string) =>
    layouts[table]!.present && (column === undefined || layouts[table]!.columns.includes(column));
  const placementDatabase = placementOwn(Object.keys(snapshot.tables), novaSchemaVersion);
  let release: string;
  if (placementDatabase && has('resource_providers')) release = 'placement';
  else if (!has('resource_providers')) release = 'none';
  else if (!has('resource_classes')) release = 'newton';
  else if (!has('traits')) release = 'ocata';
  else if (!has('resource_providers', 'root_provider_id')) release = 'pike';
  else if (!has('consumers', 'generation')) release = 'queens';
  else release = refineRelease(novaSchemaVersion);
  return {
    release,
    novaSchemaVersion: placementDatabase ? null : novaSchemaVersion,
    placementDatabase,
    layouts,
    extraColumns,
    latin1Tables,
    allTables: Object.keys(snapshot.tables).sort(),
  };
}

/**
 * Placement's own database, told from a nova_api: it has none of nova's
 * tables (every nova_api has cell_mappings, and migrate_version until Xena),
 * and either an alembic revision (nova's alembic came with Yoga, with
 * cell_mappings) or a table only placement has (consumer_types, migrate's
 * run marker).
 */
function placementOwn(
  tables: readonly string[],
  version: string | null,
): { revision: string | null } | null {
  if (looksLikeNovaApi(tables)) return null;
  const alembic = version !== null && !/^\d+$/.test(version);
  if (alembic || tables.includes('consumer_types') || tables.includes(RUN_TABLE)) {
    return { revision: alembic ? version : null };
  }
  return null;
}

/**
 * nova_api's alembic revisions (nova moved to alembic in Xena) and the first
 * release stamped with each: d67eeaabee36 is Xena's initial revision, and
 * b30f573d3377 has been the head since Yoga.
 */
const NOVA_API_ALEMBIC_RELEASES: Readonly<Record<string, string>> = {
  d67eeaabee36: 'xena',
  b30f573d3377: 'yoga or later',
};

/** Rocky and later share one placement shape; nova's schema version tells them apart. */
function refineRelease(version: string | null): string {
  if (version === null) return 'rocky or later';
  if (!/^\d+$/.test(version)) return NOVA_API_ALEMBIC_RELEASES[version] ?? 'xena or later';
  const v = Number(version);
  if (v >= 67) return 'train or later';
  if (v >= 62) return 'stein';
  return 'rocky';
}

/** nova_api's schema version: sqlalchemy-migrate's migrate_version, or alembic's after Xena. */
export async function readNovaSchemaVersion(
  conn: Knex,
  dialect: Dialect,
  tables: string[],
): Promise<string | null> {
  if (tables.includes('alembic_version')) {
    const [row] = dialect.rows<{ v: string }>(
      await conn.raw('SELECT version_num AS v FROM alembic_version'),
    );
    // A pre-Xena nova_api that placement's own db sync also ran in holds
    // placement's revision there: nova's version is migrate_version's.
    const placements = row !== undefined && findRevision(row.v) !== undefined;
    if (row && !(placements && tables.includes('migrate_version'))) return row.v;
  }
  if (tables.includes('migrate_version')) {
    const [row] = dialect.rows<{ v: number | string }>(
      await conn.raw('SELECT version AS v FROM migrate_version'),
    );
    if (row) return String(row.v);
  }
  return null;
}

/**
 * A digest of every copied column of every row of the placement tables,
 * computed by the source's server (tableDigestSql). Taken inside the copy's
 * snapshot and again live once the copy is verified, a difference means nova
 * inserted, deleted or updated a row while the copy ran: an in-place UPDATE
 * of allocations.used is caught as surely as a new row.
 */
export async function sourceDigest(
  conn: Knex,
  dialect: Dialect,
  layouts: Record<string, TableLayout>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const layout of Object.values(layouts)) {
    if (!layout.present) continue;
    const [row] = dialect.rows<{ n: unknown; d: unknown }>(
      await conn.raw(dialect.tableDigestSql(layout.table.name, layout.columns)),
    );
    out[layout.table.name] = `${String(row?.n ?? 0)}:${String(row?.d ?? 0)}`;
  }
  return out;
}

/**
 * What a failure to open the nova_api source means for migrate. A server
 * without the nova_api database is a cloud without nova (or one extracted
 * already): nothing to migrate, exit 20, not a connection failure. A SQLite
 * file that is not there is a path to check (a typo, the wrong directory):
 * "database missing" with the path and `pathHint`. Anything else as it is.
 */
export function sourceOpenError(err: unknown, pathHint: string): unknown {
  if (!(err instanceof ConnectionError) || err.failure !== 'database_missing') return err;
  if (typeof err.details?.['path'] === 'string') {
    return new ConnectionError(
      'database_missing',
      err.message,
      `${err.hint ?? ''} ${pathHint}`.trim(),
      err,
      err.details,
    );
  }
  return new PlacementUpgradeError(
    'source_missing',
    ExitCode.SOURCE_HAS_NO_PLACEMENT,
    err.message,
    {
      hint: 'A cloud deployed without nova (or after placement was extracted) has nothing to migrate. Otherwise check --source.',
      cause: err,
    },
  );
}
