/**
 * MariaDB Galera Cluster, as the MySQL dialect meets it: whether a server is
 * a Galera node (detected, never configured), and a lock that holds across
 * the whole cluster where GET_LOCK holds only on the node that took it.
 *
 * The lock is a table's existence. Galera runs DDL in total order on every
 * node (TOI), so of two CREATE TABLEs of one name, from any nodes, exactly
 * one succeeds and every other fails with "table exists"; DROP TABLE
 * releases it. The table holds one row naming its holder, whose heartbeat
 * (from a connection of its own, so that a long ALTER does not stop it) lets
 * a waiter take over the lock of a run that died: the takeover is an UPDATE
 * of that row, which Galera certifies, so one waiter wins.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import knexFactory, { type Knex } from 'knex';
import { LockedError } from '../../errors/errors.js';
import type { ClusterFault } from './dialect.js';

/** The lock table: present only while a run holds the cluster-wide schema lock. */
export const CLUSTER_LOCK_TABLE = 'placement_upgrade_sync_lock';

/** How often the holder says it is alive, and how long a silent holder keeps the lock. */
const HEARTBEAT_MS = 3_000;
const STALE_SECONDS = 20;

/** What a Galera node says of itself and its cluster. */
export interface GaleraNode {
  nodeName: string;
  clusterSize: number;
  /** Primary, non-Primary or Disconnected. */
  clusterStatus: string;
  /** Synced, Donor/Desynced, Joining, Joined… */
  localState: string;
  ready: boolean;
  /** The write-set limits: rows (0: none) and bytes. */
  maxWsRows: number;
  maxWsSize: number;
  /** binlog_annotate_row_events: each statement's text travels in the write set too. */
  annotateRows: boolean;
}

/** How the dialect reads a driver result: its rows, or how many rows a write changed. */
export interface ResultReader {
  rows<T>(result: unknown): T[];
  affectedRows(result: unknown): number;
}
type Rows = (result: unknown) => Record<string, unknown>[];

function settings(rows: Record<string, unknown>[]): Map<string, string> {
  return new Map(
    rows.map((r) => [
      String(r['Variable_name'] ?? r['VARIABLE_NAME']).toLowerCase(),
      String(r['Value'] ?? r['VARIABLE_VALUE']),
    ]),
  );
}

/** The server as a Galera node, or null when it is not one (wsrep off, or a plain MySQL). */
export async function galeraNode(db: Knex, rows: Rows): Promise<GaleraNode | null> {
  const vars = settings(
    rows(
      await db.raw(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_node_name', 'wsrep_max_ws_rows', 'wsrep_max_ws_size', 'binlog_annotate_row_events')",
      ),
    ),
  );
  if (vars.get('wsrep_on') !== 'ON') return null;
  const status = settings(
    rows(
      await db.raw(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_cluster_status', 'wsrep_local_state_comment', 'wsrep_ready')",
      ),
    ),
  );
  return {
    nodeName: vars.get('wsrep_node_name') ?? '',
    clusterSize: Number(status.get('wsrep_cluster_size') ?? 0),
    clusterStatus: status.get('wsrep_cluster_status') ?? 'unknown',
    localState: status.get('wsrep_local_state_comment') ?? 'unknown',
    ready: status.get('wsrep_ready') === 'ON',
    maxWsRows: Number(vars.get('wsrep_max_ws_rows') ?? 0),
    maxWsSize: Number(vars.get('wsrep_max_ws_size') ?? 0),
    annotateRows: vars.get('binlog_annotate_row_events') === 'ON',
  };
}

const errno = (err: unknown): unknown => (err as { errno?: unknown } | null)?.errno;

/**
 * Galera's refusals by their errno and words: 1047 "WSREP has not yet
 * prepared node for application use" (outside the Primary Component, or
 * joining); 1180 on commit, "Not connected to Primary Component" or a write
 * set over wsrep_max_ws_rows; 1105 "Maximum writeset size exceeded".
 */
export function galeraFault(err: unknown): ClusterFault | null {
  const code = errno(err);
  const detail = String((err as { sqlMessage?: unknown } | null)?.sqlMessage ?? '');
  const tooLarge = /max_ws_|writeset size|write set size/i.test(detail);
  if ((code === 1180 || code === 1105) && tooLarge) return { kind: 'write_set_too_large', detail };
  if (code === 1047 && /WSREP/i.test(detail)) return { kind: 'not_primary', detail };
  if (code === 1180 && /Primary Component|WSREP|No such device/i.test(detail))
    return { kind: 'not_primary', detail };
  return null;
}

/** A line naming the node and its wsrep state, for a cluster error's message (empty when it does not answer). */
export async function describeNode(db: Knex, rows: Rows): Promise<string> {
  try {
    const node = await galeraNode(db, rows);
    if (!node) return '';
    return `(node ${node.nodeName || 'unnamed'}: cluster status ${node.clusterStatus}, state ${node.localState}, ${node.ready ? 'ready' : 'not ready'}, ${node.clusterSize} node${node.clusterSize === 1 ? '' : 's'} in its component)`;
  } catch {
    return '';
  }
}
/** ER_TABLE_EXISTS_ERROR, ER_NO_SUCH_TABLE, ER_DUP_ENTRY, ER_LOCK_DEADLOCK (a certification failure). */
const TABLE_EXISTS = 1050;
const NO_SUCH_TABLE = 1146;
const DUPLICATE = 1062;
const CERTIFICATION = 1213;

interface Holder {
  holder: string;
  node: string;
  age: number;
}

/**
 * Someone else's lock row, or null for a lock table without one (being
 * taken, or its taker died); 'gone' when there is no table to read, or when
 * the read met the lock's DROP or CREATE arriving from another node (Galera
 * aborts a read that holds the table while DDL replicates, as a deadlock).
 */
async function readHolder(db: Knex, rows: Rows): Promise<Holder | null | 'gone'> {
  try {
    const [row] = rows(
      await db.raw(
        `SELECT holder, node, TIMESTAMPDIFF(MICROSECOND, heartbeat_at, NOW(6)) / 1000000 AS age
           FROM ${CLUSTER_LOCK_TABLE} WHERE id = 1`,
      ),
    );
    if (!row) return null;
    return { holder: String(row['holder']), node: String(row['node']), age: Number(row['age']) };
  } catch (err) {
    if (errno(err) === NO_SUCH_TABLE || errno(err) === CERTIFICATION) return 'gone';
    throw err;
  }
}

/** Runs a statement whose failure by a concurrent run is an answer, not an error. */
async function attempt(run: () => Promise<unknown>, answers: readonly number[]): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (err) {
    if (answers.includes(errno(err) as number)) return false;
    throw err;
  }
}

/** Takes the cluster-wide lock, or throws LockedError after `timeoutSeconds`. */
async function acquire(
  db: Knex,
  rows: Rows,
  affected: (result: unknown) => number,
  node: GaleraNode,
  token: string,
  timeoutSeconds: number,
  notice: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let emptySince: number | undefined;
  let waiting = false;
  for (;;) {
    const created = await attempt(
      () =>
        db.raw(
          `CREATE TABLE ${CLUSTER_LOCK_TABLE} (
             id INT NOT NULL PRIMARY KEY, holder VARCHAR(255) NOT NULL, node VARCHAR(255) NOT NULL,
             taken_at DATETIME(6) NOT NULL, heartbeat_at DATETIME(6) NOT NULL)`,
        ),
      [TABLE_EXISTS],
    );
    const insert = () =>
      db.raw(
        `INSERT INTO ${CLUSTER_LOCK_TABLE} (id, holder, node, taken_at, heartbeat_at)
         VALUES (1, ?, ?, NOW(6), NOW(6))`,
        [token, node.nodeName],
      );
    if (created) {
      // Ours, unless a waiter took the empty table over meanwhile (it thought we had died).
      if (await attempt(insert, [DUPLICATE, CERTIFICATION])) return;
      continue;
    }
    const holder = await readHolder(db, rows);
    if (holder === 'gone') continue; // released between the two statements: try again at once
    if (holder === null) {
      // A table without a row: its creator is inserting, or died in between.
      emptySince ??= Date.now();
      if (
        Date.now() - emptySince > STALE_SECONDS * 1000 &&
        (await attempt(insert, [DUPLICATE, CERTIFICATION, NO_SUCH_TABLE]))
      ) {
        notice(`Took over the cluster's schema lock: its taker never wrote its name.`);
        return;
      }
    } else {
      emptySince = undefined;
      if (holder.age > STALE_SECONDS) {
        const taken = await db
          .raw(
            `UPDATE ${CLUSTER_LOCK_TABLE} SET holder = ?, node = ?, taken_at = NOW(6), heartbeat_at = NOW(6)
              WHERE id = 1 AND holder = ?`,
            [token, node.nodeName, holder.holder],
          )
          .then(
            (r: unknown) => affected(r),
            (err: unknown) => {
              if ([CERTIFICATION, NO_SUCH_TABLE].includes(errno(err) as number)) return 0;
              throw err;
            },
          );
        if (taken === 1) {
          notice(
            `Took over the cluster's schema lock from ${holder.holder} on ${holder.node}: it had not said it was alive for ${Math.round(holder.age)} s.`,
          );
          return;
        }
      } else if (!waiting) {
        waiting = true;
        notice(
          `Waiting for another run's schema lock on this Galera cluster (${holder.holder}, on node ${holder.node}).`,
        );
      }
      if (Date.now() > deadline) {
        throw new LockedError(
          `Another placement-upgrade run holds the schema lock of this Galera cluster: ${holder.holder}, on node ${holder.node} (waited ${timeoutSeconds} s; it last said it was alive ${Math.round(holder.age)} s ago).`,
          `Wait for it to finish, or raise --lock-timeout. A run that died gives its lock up by itself after ${STALE_SECONDS} s of silence.`,
        );
      }
    }
    if (holder === null && Date.now() > deadline) {
      throw new LockedError(
        `The schema lock table ${CLUSTER_LOCK_TABLE} of this Galera cluster stayed empty for ${timeoutSeconds} s.`,
        `Run again; if it persists, drop ${CLUSTER_LOCK_TABLE} (no run holds it).`,
      );
    }
    await new Promise((r) => setTimeout(r, 150 + Math.random() * 200));
  }
}

/**
 * Runs `work` while holding the schema lock of the whole Galera cluster
 * (see the module's comment), with reads on `db` made causal (they see
 * every transaction the cluster committed before them: wsrep_sync_wait).
 * `db` must be a one-connection pool, as the schema's is.
 */
export async function withClusterLock<T>(
  db: Knex,
  reader: ResultReader,
  node: GaleraNode,
  timeoutSeconds: number,
  work: () => Promise<T>,
  notice: (line: string) => void = () => undefined,
): Promise<T> {
  const rows: Rows = (r) => reader.rows<Record<string, unknown>>(r);
  const token = `${hostname()} pid ${process.pid} (${randomUUID().slice(0, 8)})`;
  await acquire(db, rows, (r) => reader.affectedRows(r), node, token, timeoutSeconds, notice);
  // The heartbeat's own connection: a long ALTER on `db` must not silence it.
  const config = (db as unknown as { client: { config: Knex.Config } }).client.config;
  const beat = knexFactory({ ...config, pool: { min: 0, max: 1 } });
  const timer = setInterval(() => {
    beat
      .raw(`UPDATE ${CLUSTER_LOCK_TABLE} SET heartbeat_at = NOW(6) WHERE id = 1 AND holder = ?`, [
        token,
      ])
      .catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  try {
    const [previous] = rows(await db.raw('SELECT @@SESSION.wsrep_sync_wait AS w'));
    await db.raw('SET SESSION wsrep_sync_wait = 1');
    const result = await work();
    await db.raw('SET SESSION wsrep_sync_wait = ?', [Number(previous?.['w'] ?? 0)]);
    return result;
  } finally {
    clearInterval(timer);
    await beat.destroy().catch(() => undefined);
    // A release that fails (the node went away) leaves a silent lock, which
    // the next run takes over: the work's own error is the one to report.
    await release(db, rows, token).catch(() => undefined);
  }
}

async function release(db: Knex, rows: Rows, token: string): Promise<void> {
  const holder = await readHolder(db, rows);
  if (holder !== 'gone' && holder?.holder === token) {
    await db.raw(`DROP TABLE IF EXISTS ${CLUSTER_LOCK_TABLE}`);
  }
}
