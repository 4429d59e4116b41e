import knexFactory, { type Knex } from 'knex';
import { mysqlDialect } from './dialect/mysql.js';
import { postgresqlDialect } from './dialect/postgresql.js';
import { sqliteDialect } from './dialect/sqlite.js';
import type { Dialect, PoolOptions } from './dialect/dialect.js';
import { displayUrl, type ConnectionSpec, type Engine } from './url.js';
import { clusterError, tagOrigin } from './errors.js';
import { tlsAttempts, type TlsOptions } from './tls.js';
import { withOptionFile } from './option-file.js';
import { ClusterError, ConnectionError, TlsConnectionError } from '../errors/errors.js';

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
  given: ConnectionSpec,
  options: Partial<PoolOptions> = {},
): Promise<Database> {
  // A MySQL option file (read_default_file=) is read here, once, and fills in what the URL leaves out.
  const spec = withOptionFile(given);
  const dialect = dialectFor(spec.engine);
  const pool: PoolOptions = {
    max: options.max ?? 4,
    mustExist: options.mustExist ?? false,
    connectTimeoutSeconds: options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS,
    causalReads: options.causalReads ?? true,
  };
  // The TLS files are read here, once: a missing one is a configuration error before any connection.
  const attempts = tlsAttempts(spec.tls, spec.origin);
  const failures: ConnectionError[] = [];
  let knex: Knex | undefined;
  for (const tls of attempts) {
    try {
      knex = await connectOnce(dialect, spec, pool, tls);
      break;
    } catch (err) {
      // A Galera node outside the Primary Component answers, but takes no work: exit 28, not "cannot connect".
      if (err instanceof ClusterError) throw err;
      const failure = dialect.classifyConnectError(err, spec);
      if (tls === null && dialect.tlsRequiredByServer) {
        failures.push((await dialect.tlsRequiredByServer(err, spec, pool)) ?? failure);
      } else failures.push(failure);
      // The server was never reached: another attempt would only fail (and wait) the same way.
      if (failure.failure === 'unreachable') break;
    }
  }
  if (!knex) throw reportedFailure(failures);
  const display = displayUrl(spec);
  const unready = await dialect.unreadyNode?.(knex).catch(() => null);
  if (unready) {
    await knex.destroy().catch(() => undefined);
    throw clusterError(
      { kind: 'not_primary', detail: 'wsrep_ready is OFF, so it refuses every table' },
      display,
      'connecting',
      null,
    ).withNodeState(unready);
  }
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

/** A knex pool whose first connection has answered one round trip. */
async function connectOnce(
  dialect: Dialect,
  spec: ConnectionSpec,
  pool: PoolOptions,
  tls: TlsOptions | null,
): Promise<Knex> {
  // knex would print driver errors itself (with console.log); we report them, typed, once.
  const knex = knexFactory({ ...dialect.knexConfig(spec, pool, tls), log: SILENT_LOG });
  try {
    await knex.raw('SELECT 1');
    return knex;
  } catch (err) {
    const fault = dialect.clusterFault(err);
    if (fault) {
      const state = (await dialect.clusterNodeState?.(knex).catch(() => '')) ?? '';
      await knex.destroy().catch(() => undefined);
      throw clusterError(fault, displayUrl(spec), 'connecting', err).withNodeState(state);
    }
    await knex.destroy().catch(() => undefined);
    throw err;
  }
}

/**
 * Of the failures of a prefer or allow run (TLS, then plain, or the
 * reverse), the one that says what is wrong: not "the server has no TLS" nor
 * "the server requires TLS", which only explain why the other attempt was
 * made, unless nothing else failed.
 */
function reportedFailure(failures: ConnectionError[]): ConnectionError {
  const telling = failures.find(
    (f) =>
      !(
        f instanceof TlsConnectionError &&
        (f.problem === 'unsupported' || f.problem === 'required')
      ),
  );
  return failures.length > 1 && telling ? telling : failures[failures.length - 1]!;
}
