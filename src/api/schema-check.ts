/**
 * What `api serve` needs before it listens: placement's tables, at a
 * revision this tool knows. Without them every route would answer 500, so
 * the server refuses to start instead, saying what is missing and how to
 * create it.
 */
import type { Database } from '../db/connect.js';
import { SchemaStateError } from '../errors/errors.js';
import { INITIAL_TABLES } from '../migrations/b4ed3a175331-initial.js';
import { getSchemaVersion, looksLikeNovaApi, type SchemaVersion } from '../schema/migrator.js';

/** The tables every revision of placement's schema has, and the API reads. */
export const SERVED_TABLES: readonly string[] = INITIAL_TABLES.map((t) => t.name).sort();

/** Refuses (SchemaStateError, exit 12) a database the API could not serve; returns its revision. */
export async function requireServableSchema(db: Database): Promise<SchemaVersion> {
  let version: SchemaVersion;
  try {
    version = await getSchemaVersion(db);
  } catch (err) {
    if (!(err instanceof SchemaStateError)) throw err;
    throw new SchemaStateError(
      `Refusing to serve ${db.display}: ${err.message.charAt(0).toLowerCase()}${err.message.slice(1)}`,
      err.hint,
      err.details,
    );
  }
  const missing = SERVED_TABLES.filter((t) => !version.placementTables.includes(t));
  if (missing.length === 0) return version;
  const stamped =
    version.revision === null ? 'no alembic revision' : `revision ${version.revision}`;
  const what =
    missing.length === SERVED_TABLES.length
      ? `it has no placement tables (${stamped}), so every route of the API would fail`
      : `placement's ${missing.length === 1 ? 'table' : 'tables'} ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (${stamped}), so the routes reading ${missing.length === 1 ? 'it' : 'them'} would fail`;
  const novaApi = looksLikeNovaApi(await db.dialect.listTables(db.knex));
  throw new SchemaStateError(
    `Refusing to serve ${db.display}: ${what}.`,
    novaApi
      ? `This looks like nova's nova_api database: move its placement data into placement's own database with "placement-upgrade migrate --apply", then serve that one.`
      : `Create or complete placement's schema with "placement-upgrade db sync" (or move the data from nova_api with "placement-upgrade migrate --apply"), or check --placement-url / --placement-config.`,
    { revision: version.revision, missingTables: missing },
  );
}
