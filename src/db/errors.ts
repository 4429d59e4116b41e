import {
  ClusterError,
  ConnectionError,
  LockedError,
  PlacementUpgradeError,
  PermissionDeniedError,
  StorageFaultError,
} from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';
import type { Database } from './connect.js';
import type { ClusterFault, Dialect } from './dialect/dialect.js';

/** Which database a driver error came from: set on every failed query by openDatabase. */
const ORIGIN = Symbol('placement-upgrade database');

interface Origin {
  display: string;
  dialect: Dialect;
}

/** Marks a driver error with the database whose query raised it (the password-free URL). */
export function tagOrigin(err: unknown, origin: Origin): void {
  if (err && typeof err === 'object' && !(ORIGIN in err)) {
    Object.defineProperty(err, ORIGIN, { value: origin, enumerable: false });
  }
}

function originOf(err: unknown): Origin | undefined {
  return err && typeof err === 'object' ? (err as { [ORIGIN]?: Origin })[ORIGIN] : undefined;
}

/** What to do after a lost connection, whichever command lost it. */
const LOST_HINT =
  'Check that the server is up and reachable (a restart, a Galera node leaving the cluster, a proxy or wait_timeout can end a session), then run the same command again: migrate --apply resumes after the last committed row, db sync finishes the revision it was in, and the online data migrations pick up the rows still to do.';

/** What to do after the storage refused a write, whichever command it was. */
const STORAGE_HINT =
  'Free space, make the database file and its directory writable, or restore the database, then run the same command again: migrate --apply resumes after the last committed row (or reports the target as interrupted), db sync finishes the revision it was in.';

/** What to do on a Galera node outside the Primary Component. */
const NOT_PRIMARY_HINT =
  "The node has left its cluster's Primary Component (a network split, the other nodes down) or is still joining. Point the command at a node whose wsrep_cluster_status is Primary, or wait for this one to rejoin, then run the same command again: migrate --apply resumes after the last committed row, db sync finishes the revision it was in, and the online data migrations pick up the rows still to do.";

/** What to do when a write set was over the cluster's limits. */
const WRITE_SET_HINT =
  'Lower --batch-size (migrate) or --max-count (db online-data-migrations), or raise wsrep_max_ws_rows / wsrep_max_ws_size on the cluster, then run the same command again: it resumes after the last committed row.';

/** What to do after another session kept a lock past the server's timeout, or a deadlock was not retried. */
const LOCK_HINT =
  'Another session holds rows or tables this work needs (a placement-api or nova writing to this database, another placement-upgrade run, a transaction left open in a client). Find it (SHOW PROCESSLIST on MySQL, pg_stat_activity on PostgreSQL), let it finish or end it, then run the same command again: migrate --apply resumes after the last committed row, db sync finishes the revision it was in.';

/**
 * The typed error for a driver error an operator can act on: a missing
 * privilege, a lock another session kept (exit 14), or a connection that
 * ended half-way (exit 5, with how to resume). It names the database whose query failed (`fallback` when the
 * error carries none) and what was being done. Null for anything else.
 */
export function classifyDatabaseError(
  err: unknown,
  action: string,
  fallback?: Origin & { database?: string },
):
  | PermissionDeniedError
  | ConnectionError
  | StorageFaultError
  | LockedError
  | PlacementUpgradeError
  | null {
  const origin = originOf(err) ?? fallback;
  if (!origin) return null;
  if (origin.dialect.isPermissionError(err)) {
    // Drivers' own text (sqlMessage) is clearer than knex's "SQL - message".
    const e = err as { sqlMessage?: string; message?: string };
    const detail = e.sqlMessage ?? e.message ?? String(err);
    return new PermissionDeniedError(
      `Permission denied while ${action} on ${origin.display}: ${detail}`,
      `Grant the database user the privileges to create and alter tables in ${fallback?.database ?? 'this database'} (placement-manage needs the same).`,
      err,
    );
  }
  const fault = origin.dialect.storageFault(err);
  if (fault) {
    const e = err as { sqlMessage?: string; message?: string };
    const detail = (e.sqlMessage ?? e.message ?? String(err)).split(' - ').pop();
    return new StorageFaultError(
      `${origin.display} refused the work while ${action}: ${fault} (${detail}). What was committed before stays committed.`,
      STORAGE_HINT,
      err,
    );
  }
  if (origin.dialect.isUnstorableText(err)) {
    const e = err as { sqlMessage?: string; message?: string };
    const detail = (e.sqlMessage ?? e.message ?? String(err)).split(' - ').pop();
    return new PlacementUpgradeError(
      'unstorable_text',
      ExitCode.COPY_BLOCKED,
      `${origin.display} cannot store a value while ${action}: ${detail}. What was committed before stays committed.`,
      {
        hint: "The target's character set cannot hold that text: give the database (and its tables) utf8mb4, then run again.",
        cause: err,
      },
    );
  }
  const cluster = origin.dialect.clusterFault(err);
  if (cluster) return clusterError(cluster, origin.display, action, err);
  if (origin.dialect.isTransientConflict(err)) {
    const e = err as { sqlMessage?: string; message?: string };
    const detail = (e.sqlMessage ?? e.message ?? String(err)).split(' - ').pop();
    return new LockedError(
      `${origin.display} could not give this run a lock it needed while ${action}: ${detail}. What was committed before stays committed.`,
      LOCK_HINT,
    );
  }
  const lost = origin.dialect.connectionLost(err);
  if (lost) {
    return new ConnectionError(
      'lost',
      `Lost the connection to ${origin.display} while ${action}: ${lost}. What was committed before stays committed.`,
      LOST_HINT,
      err,
    );
  }
  return null;
}

/** The typed error of a Galera refusal (exit 28 or 29), without the node's state (withNodeState adds it). */
export function clusterError(
  fault: ClusterFault,
  display: string,
  action: string,
  err: unknown,
): ClusterError {
  return fault.kind === 'not_primary'
    ? new ClusterError(
        'not_primary',
        `${display} is a Galera node that cannot take work now, while ${action}: ${fault.detail}.${action === 'connecting' ? '' : ' What was committed before stays committed.'}`,
        NOT_PRIMARY_HINT,
        err,
      )
    : new ClusterError(
        'write_set_too_large',
        `A write exceeded the Galera cluster's write-set limits on ${display} while ${action}: ${fault.detail}. What was committed before stays committed.`,
        WRITE_SET_HINT,
        err,
      );
}

/**
 * Runs database work and turns driver errors an operator can act on into
 * typed errors (classifyDatabaseError). An error that a query of another
 * open database raised (migrate reads one and writes the other) names that
 * one.
 */
export async function withDatabaseErrors<T>(
  database: Database,
  action: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const typed = classifyDatabaseError(err, action, {
      display: database.display,
      dialect: database.dialect,
      database: database.spec.database,
    });
    if (typed instanceof ClusterError) throw typed.withNodeState(await nodeState(database));
    throw typed ?? err;
  }
}

/** What a Galera node says of itself, for a cluster error's message; empty if it does not answer within 3 s. */
async function nodeState(database: Database): Promise<string> {
  const describe = database.dialect.clusterNodeState;
  if (!describe) return '';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(''), 3000)));
  try {
    return await Promise.race([describe.call(database.dialect, database.knex), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
