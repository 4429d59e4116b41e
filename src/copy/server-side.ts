/**
 * The server-side copy path (MySQL/MariaDB, Galera included): when the
 * target's connection can read nova_api on the same server or cluster, each
 * key range is copied by `INSERT INTO t (…) SELECT … FROM nova_api.t` in
 * committed batches, and verified by checksums the server computes on both
 * sides over the same canonical row text. No row crosses into Node.
 *
 * It keeps what the row path guarantees: a batch commits whole, a killed
 * run resumes after the greatest key the target holds in the range, and
 * verification compares every row. The rows come from nova_api as it is
 * (the target's session cannot share the source's snapshot); the source's
 * checksum is read in the snapshot, so a row nova changed meanwhile shows
 * as a difference, and the run's end-of-copy digest names the table.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import type { Dialect, ServerCopy } from '../db/dialect/dialect.js';
import { onOneConnection } from '../db/pool-connection.js';
import { keyText } from './checksum.js';
import { writeAgainWhileTransient, type CopiedSlice, type FastUnitOptions } from './copy.js';
import {
  lastKey,
  pageCondition,
  rangeCondition,
  type KeyRange,
  type TableLayout,
} from './reader.js';

/** Which way the rows travel, and why (reported in the result and --json). */
export interface CopyPath {
  path: 'server-side' | 'copy-stream' | 'rows';
  /** One sentence: what was proved, or why the row path. */
  reason: string;
  /** The source's database, when server-side. */
  sourceSchema?: string;
}

/**
 * The copy path for this run, when allowed (`fastPath`): COPY text between
 * two PostgreSQL servers; server-side when both ends are MySQL-family, the
 * server proves they share it, and the target's user may read every table
 * to copy from the source's database; otherwise the rows.
 */
export async function chooseCopyPath(
  source: Database,
  target: Database,
  tables: readonly string[],
  fastPath: boolean,
): Promise<CopyPath> {
  const rows = (reason: string): CopyPath => ({ path: 'rows', reason });
  if (!fastPath) return rows('--no-fast-path: every row is read and written by placement-upgrade.');
  if (source.dialect.streamCopy && target.dialect.streamCopy) {
    if (source.dialect.engine === target.dialect.engine) {
      return {
        path: 'copy-stream',
        reason: `${source.dialect.displayName} to ${target.dialect.displayName}: the rows travel as COPY text, hashed as they pass; the target's COPY text is hashed to verify.`,
      };
    }
  }
  const serverCopy = target.dialect.serverCopy;
  if (!serverCopy || source.dialect.engine !== target.dialect.engine) {
    return rows(
      `${source.dialect.displayName} to ${target.dialect.displayName}: rows are read and written by placement-upgrade.`,
    );
  }
  const schema = source.spec.database;
  if (!schema || schema === target.spec.database) {
    return rows(
      `${schema ? 'the source and the target databases have one name' : 'the source URL names no database'}: rows are read and written by placement-upgrade.`,
    );
  }
  const shared = await serverCopy.sharedServer(source.knex, target.knex);
  if (!shared) {
    return rows(
      'the source and the target are not on one server or Galera cluster: rows are read and written by placement-upgrade.',
    );
  }
  const unreadable = await serverCopy.unreadable(target.knex, schema, tables);
  if (unreadable !== null) {
    return rows(
      `the source and the target are on ${shared}, but the target's user may not read ${schema}.${unreadable} (GRANT SELECT ON ${schema}.* to it for the server-side copy): rows are read and written by placement-upgrade.`,
    );
  }
  return {
    path: 'server-side',
    reason: `the source and the target are on ${shared}: INSERT … SELECT from ${schema}, checksums computed by the server.`,
    sourceSchema: schema,
  };
}

/** One side of a server-side copy or checksum. */
export interface ServerSide {
  conn: Knex;
  dialect: Dialect;
  layout: TableLayout;
}

/** The source's value of each of the table's columns: the column, or its default where nova_api lacks it. */
export function sourceValues(
  layout: TableLayout,
  q: (s: string) => string,
): { sql: string[]; bindings: unknown[] } {
  const sql: string[] = [];
  const bindings: unknown[] = [];
  for (const c of layout.table.columns) {
    if (layout.columns.includes(c)) sql.push(`s.${q(c)}`);
    else {
      sql.push('?');
      bindings.push(layout.table.defaults[c] ?? null);
    }
  }
  return { sql, bindings };
}

export function whereClause(clauses: string[]): string {
  return clauses.length > 0 ? ` WHERE ${clauses.join(' AND ')}` : '';
}

/** A server checksum as text: the row count is kept beside it. */
function checksumText(a: bigint, b: bigint): string {
  return `sha1-xor:${a.toString(16).padStart(16, '0')}${b.toString(16).padStart(16, '0')}`;
}

/** Combines slices' server checksums (XOR is order-free, as the rows' own). */
export function combineServerChecksums(checksums: readonly string[]): string {
  let a = 0n;
  let b = 0n;
  for (const c of checksums) {
    const hex = c.slice('sha1-xor:'.length);
    a ^= BigInt(`0x${hex.slice(0, 16)}`);
    b ^= BigInt(`0x${hex.slice(16)}`);
  }
  return checksumText(a, b);
}

/**
 * The server's checksum of one side's rows in `range`: the source's as its
 * columns map onto placement's (defaults included), the target's as stored.
 */
export async function serverChecksum(
  side: ServerSide & { serverCopy: ServerCopy; source: boolean },
  range: KeyRange | null,
): Promise<{ rows: number; checksum: string }> {
  const q = side.dialect.quote;
  const { table } = side.layout;
  const values = side.source
    ? sourceValues(side.layout, q)
    : { sql: table.columns.map((c) => `s.${q(c)}`), bindings: [] };
  const inRange = rangeCondition(table.key, range ?? undefined, (c) => `s.${q(c)}`);
  const from = `FROM ${q(table.name)} s${whereClause(inRange.clauses)}`;
  const sql = side.serverCopy.checksumSelect(values.sql).replace('{from}', from);
  const [row] = side.dialect.rows<{ n: unknown; a: unknown; b: unknown }>(
    await side.conn.raw(sql, [...values.bindings, ...inRange.bindings] as Knex.RawBinding[]),
  );
  return {
    rows: Number(row?.n ?? 0),
    checksum: checksumText(BigInt(String(row?.a ?? 0)), BigInt(String(row?.b ?? 0))),
  };
}

/**
 * Copies one table, or one key range of it, by INSERT … SELECT batches of
 * `batchSize` rows in key order, each one autocommitted READ COMMITTED statement
 * (a consistent, non-locking read of nova_api: nova is never blocked), after
 * the greatest key the target holds in the range. The source's checksum of
 * the range is read meanwhile, in the snapshot.
 */
export async function copyUnitServerSide(
  source: ServerSide & { schema: string; serverCopy: ServerCopy },
  target: { conn: Knex; dialect: Dialect },
  range: KeyRange | null,
  options: FastUnitOptions,
): Promise<CopiedSlice> {
  const { table } = source.layout;
  const q = target.dialect.quote;
  const checksum = serverChecksum({ ...source, source: true }, range);
  checksum.catch(() => undefined); // awaited below
  let after = await lastKey(target.conn, target.dialect, table, range ?? undefined);
  const resumedAfter = after ? keyText(table, after) : null;
  options.onStart?.(resumedAfter);
  const values = sourceValues(source.layout, q);
  const insert = `INSERT INTO ${q(table.name)} (${table.columns.map(q).join(', ')}) SELECT ${values.sql.join(', ')} FROM ${source.serverCopy.qualified(source.schema, table.name)} s`;
  const order = ` ORDER BY ${table.key.map((k) => `s.${q(k)}`).join(', ')} LIMIT ${options.batchSize}`;
  let rows = 0;
  for (;;) {
    if (options.stopped?.()) break;
    const page = pageCondition(table.key, range ?? undefined, after, (c) => `s.${q(c)}`);
    const bindings = [...values.bindings, ...page.bindings];
    const sql = `${insert}${whereClause(page.clauses)}${order}`;
    const batch = { table: table.name, batch: `the batch of up to ${options.batchSize} rows` };
    const written = await writeAgainWhileTransient(
      target.dialect,
      { ...batch, verb: 'copying' },
      {
        write: () =>
          onOneConnection(target.conn, async (conn) => {
            // One statement that commits on its own: a failed one leaves no
            // transaction open on the pooled connection (a Galera node outside
            // the Primary Component refuses even ROLLBACK). READ COMMITTED for
            // that one transaction: a consistent read of nova_api, no locks on it.
            await target.conn
              .raw('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
              .connection(conn);
            return target.dialect.affectedRows(
              await target.conn.raw(sql, bindings as Knex.RawBinding[]).connection(conn),
            );
          }),
        // A failed COMMIT may have committed (a Galera node leaving the Primary
        // Component mid-commit): this unit alone writes its range, so a
        // greater key than before means the batch landed; how many rows it
        // wrote is what the range holds after the last key.
        landed: async () => {
          const now = await lastKey(target.conn, target.dialect, table, range ?? undefined);
          if (!now || (after && keyText(table, now) === keyText(table, after))) return null;
          return countAfter(target, table, range, after);
        },
      },
      options.onRetry,
    );
    rows += written;
    options.onRows?.(written);
    if (written < options.batchSize) break;
    after = await lastKey(target.conn, target.dialect, table, range ?? undefined);
  }
  const source_ = await checksum;
  return {
    range,
    rows,
    resumedAfter,
    sourceChecksum: source_.checksum,
    sourceRows: source_.rows,
    method: 'server-side',
  };
}

/** Rows of the target's `table` in `range` after the key of `after` (all of the range when null). */
async function countAfter(
  target: { conn: Knex; dialect: Dialect },
  table: TableLayout['table'],
  range: KeyRange | null,
  after: Record<string, unknown> | null,
): Promise<number> {
  const q = target.dialect.quote;
  const { clauses, bindings } = pageCondition(table.key, range ?? undefined, after, q);
  const [row] = target.dialect.rows<{ n: unknown }>(
    await target.conn.raw(
      `SELECT COUNT(*) AS n FROM ${q(table.name)}${whereClause(clauses)}`,
      bindings as Knex.RawBinding[],
    ),
  );
  return Number(row?.n ?? 0);
}
