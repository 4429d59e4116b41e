import knexFactory, { type Knex } from 'knex';
import { mysqlDialect } from './dialect/mysql.js';
import { postgresqlDialect } from './dialect/postgresql.js';
import { sqliteDialect } from './dialect/sqlite.js';
import type { Dialect, PoolOptions } from './dialect/dialect.js';
import { displayUrl, type ConnectionSpec, type Engine } from './url.js';
import { tagOrigin } from './errors.js';

const DIALECTS: Record<Engine, Dialect> = {
  mysql: mysqlDialect,
  postgresql: postgresqlDialect,
  sqlite: sqliteDialect,
};

/** The dialect for an engine: the one place that maps an engine to its behaviour. */
export function dialectFor(engine: Engine): Dialect {
  return DIALECTS[engine];
}

/** An open database: a knex pool plus the dialect that knows its engine. */
export interface Database {
  readonly knex: Knex;
  readonly dialect: Dialect;
  readonly spec: ConnectionSpec;
  /** The URL with its password masked. */
  readonly display: string;
  close(): Promise<void>;
}

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

const ignore = () => undefined;
const SILENT_LOG = { warn: ignore, error: ignore, debug: ignore, deprecate: ignore };

/**
 * Opens a database and proves the connection works with one round trip, so
 * that every connection problem surfaces here as a typed ConnectionError
 * (unreachable, auth, database missing, permission) rather than later,
 * half-way through real work.
 */
export async function openDatabase(
  spec: ConnectionSpec,
  options: Partial<PoolOptions> = {},
): Promise<Database> {
  const dialect = dialectFor(spec.engine);
  const pool: PoolOptions = {
    max: options.max ?? 4,
    mustExist: options.mustExist ?? false,
    connectTimeoutSeconds: options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS,
  };
  let knex: Knex | undefined;
  try {
    // knex would print driver errors itself (with console.log); we report them, typed, once.
    knex = knexFactory({ ...dialect.knexConfig(spec, pool), log: SILENT_LOG });
    await knex.raw('SELECT 1');
  } catch (err) {
    await knex?.destroy().catch(() => undefined);
    throw dialect.classifyConnectError(err, spec);
  }
  const display = displayUrl(spec);
  // Knex reports every failed query before the caller sees it: mark the error with its database.
  knex.on('query-error', (err: unknown) => tagOrigin(err, { display, dialect }));
  return {
    knex,
    dialect,
    spec,
    display,
    close: () => knex.destroy(),
  };
}
