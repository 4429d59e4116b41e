import type { Knex } from 'knex';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ConnectionError, LockedError, TlsConnectionError } from '../../errors/errors.js';
import type { TlsOptions } from '../tls.js';
import type { ColumnDef, SchemaSnapshot, TableDef, TableSnapshot } from '../../schema/model.js';
import { displayUrl, type ConnectionSpec } from '../url.js';
import {
  describeLostSocket,
  describeNetworkError,
  describeTlsFailure,
  columnsOfConstraint,
  errorCode,
  GENERIC_TYPE_NAMES,
  NETWORK_ERROR_CODES,
  renderAddColumn,
  renderAddForeignKey,
  renderColumn,
  renderCreateIndex,
  renderCreateTable,
  tlsHint,
  type Dialect,
  type TypeNames,
  exactDuplicates,
  type NonUnicodeText,
  type PoolOptions,
  type StreamCopy,
} from './dialect.js';

// Keep timestamps as the text PostgreSQL holds (no time-zone shift through JS Date).
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, (v: string) => v);

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * COPY TO's escapes: the backslash, and the control characters it prints
 * as \b \f \n \r \t \v (COPY FROM reads both forms; printing the
 * escaped one keeps the loaded text equal to what the server prints back).
 */
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};
const COPY_SPECIAL = /[\\\b\f\n\r\t\v]/;
const COPY_SPECIALS = /[\\\b\f\n\r\t\v]/g;

/** One value in COPY's text format: \\N for NULL; backslash and control characters escaped. */
function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
  const text = typeof value === 'string' ? value : String(value);
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIALS, (c) => COPY_ESCAPES[c]!) : text;
}

/** Rows as the lines of a COPY … FROM STDIN in text format. */
export function copyLines(rows: readonly (readonly unknown[])[]): string {
  let out = '';
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) line += (i === 0 ? '' : '\t') + copyText(row[i]);
    out += `${line}\n`;
  }
  return out;
}

/** `text` (COPY text lines) into `into` by one COPY FROM STDIN on a connection of `db`. */
async function loadCopyText(
  db: Knex,
  into: { table: string; columns: readonly string[] },
  text: string,
): Promise<void> {
  await withClient(db, async (client) => {
    const sql = `COPY ${quote(into.table)} (${into.columns.map(quote).join(', ')}) FROM STDIN`;
    await pipeline(Readable.from([text]), client.query(copyFrom(sql)));
  });
}

const TYPES: TypeNames = { ...GENERIC_TYPE_NAMES, datetime: 'TIMESTAMP WITHOUT TIME ZONE' };

// An autoincrement key is SERIAL: an integer column with its own sequence.
const columnSql = (c: ColumnDef) =>
  renderColumn(c, quote, c.autoincrement ? { ...TYPES, integer: 'SERIAL' } : TYPES);

/** Runs `work` on one connection of the pool, held for it alone. */
async function withClient<T>(db: Knex, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = (await db.client.acquireConnection()) as pg.PoolClient;
  try {
    return await work(client);
  } finally {
    await db.client.releaseConnection(client);
  }
}

/**
 * A COPY TO that stopped half-way leaves its connection streaming rows no
 * one reads: close it, so that what runs next on it fails at once instead
 * of waiting for an answer that never comes.
 */
function closeMidCopy(client: pg.PoolClient): void {
  (
    client as unknown as { connection?: { stream?: { destroy(): void } } }
  ).connection?.stream?.destroy();
}

const passThrough = (tap: (chunk: Buffer) => void) =>
  new Transform({
    transform(chunk: Buffer, _encoding, done) {
      tap(chunk);
      done(null, chunk);
    },
  });

const pgStreamCopy: StreamCopy = {
  pipe(source, select, target, into, tap) {
    return withClient(source, (from) =>
      withClient(target, async (to) => {
        const out = from.query(copyTo(`COPY (${select}) TO STDOUT`));
        const sink = to.query(
          copyFrom(`COPY ${quote(into.table)} (${into.columns.map(quote).join(', ')}) FROM STDIN`),
        );
        try {
          await pipeline(out, passThrough(tap), sink);
        } catch (err) {
          if (!out.readableEnded) closeMidCopy(from);
          throw err;
        }
        return sink.rowCount;
      }),
    );
  },
  encodeRows: copyLines,
  load: loadCopyText,
  read(conn, select, tap) {
    return withClient(conn, async (client) => {
      const out = client.query(copyTo(`COPY (${select}) TO STDOUT`));
      try {
        for await (const chunk of out) tap(chunk as Buffer);
      } catch (err) {
        if (!out.readableEnded) closeMidCopy(client);
        throw err;
      }
      return out.rowCount;
    });
  },
};

/** A stable 32-bit key for an advisory lock name. */
function lockKey(name: string): number {
  let h = 0;
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

// SQLSTATE classes: https://www.postgresql.org/docs/current/errcodes-appendix.html
const AUTH_CODES = new Set(['28P01', '28000']);
const PERMISSION_CODES = new Set(['42501']);
// serialization_failure, deadlock_detected, lock_not_available: retrying the transaction is safe.
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03']);

/** The parameter names the TLS hints give, libpq's. */
const TLS_NAMES = {
  ca: 'sslmode=verify-full&sslrootcert=',
  encryptOnly: 'sslmode=require',
  chainOnly: 'sslmode=verify-ca',
  off: 'sslmode=disable',
};

/** node-postgres's ssl option (tls.connect's options) for TLS settings. */
function pgSsl(tls: TlsOptions): ConnectionOptions {
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    ciphers: tls.ciphers,
    rejectUnauthorized: tls.verify !== 'none',
    // verify-ca checks the chain only, as libpq does.
    checkServerIdentity: tls.verify === 'full' ? checkServerIdentity : () => undefined,
  };
}

/** The TLS failure a connect error is, if it is one. */
function tlsFailure(
  err: unknown,
  spec: ConnectionSpec,
  server: string,
  where: string,
): TlsConnectionError | null {
  const message = err instanceof Error ? err.message : '';
  const at = `${where} from ${spec.origin}`;
  if (message === 'The server does not support SSL connections') {
    return new TlsConnectionError(
      'unsupported',
      `Cannot connect to PostgreSQL at ${server} over TLS: the server does not offer TLS, and the URL requires it (${at}).`,
      tlsHint('unsupported', TLS_NAMES),
      err,
    );
  }
  // pg_hba.conf admits this connection only with TLS: "… no encryption" (PostgreSQL 12+), "SSL off" before.
  if (errorCode(err) === '28000' && /no encryption|SSL off/.test(message)) {
    return new TlsConnectionError(
      'required',
      `Cannot connect to PostgreSQL at ${server}: its pg_hba.conf admits this connection only over TLS, and the URL asks for none (${at}).`,
      tlsHint('required', TLS_NAMES),
      err,
    );
  }
  const tls =
    message === 'There was an error establishing an SSL connection'
      ? {
          problem: 'handshake' as const,
          reason: 'the server answered the TLS request with an error',
        }
      : describeTlsFailure(err);
  return tls
    ? new TlsConnectionError(
        tls.problem,
        `Cannot connect to PostgreSQL at ${server} over TLS: ${tls.reason} (${at}).`,
        tlsHint(tls.problem, TLS_NAMES),
        err,
      )
    : null;
}

/** PostgreSQL, through node-postgres. */
export const postgresqlDialect: Dialect = {
  engine: 'postgresql',
  displayName: 'PostgreSQL',
  supportsTransactionalDdl: true,
  supportsReturning: true,

  knexConfig(spec: ConnectionSpec, options: PoolOptions, tls?: TlsOptions | null): Knex.Config {
    return {
      client: 'pg',
      connection: {
        host: spec.socketPath ?? spec.host,
        port: spec.port ?? 5432,
        user: spec.user,
        password: spec.password,
        database: spec.database,
        connectionTimeoutMillis: options.connectTimeoutSeconds * 1000,
        application_name: 'placement-upgrade',
        // A URL silent on TLS leaves node-postgres to read PGSSLMODE, as it always did.
        ssl: tls ? pgSsl(tls) : spec.tls ? false : undefined,
      },
      pool: { min: 0, max: options.max },
      acquireConnectionTimeout: (options.connectTimeoutSeconds + 5) * 1000,
    };
  },

  classifyConnectError(err: unknown, spec: ConnectionSpec): ConnectionError {
    const code = errorCode(err) ?? 'UNKNOWN';
    const where = displayUrl(spec);
    const server = spec.socketPath
      ? `the socket directory ${spec.socketPath}`
      : `${spec.host}:${spec.port ?? 5432}`;
    const tls = tlsFailure(err, spec, server, where);
    if (tls) return tls;
    if (AUTH_CODES.has(code)) {
      return new ConnectionError(
        'auth',
        `PostgreSQL at ${server} refused the login of user "${spec.user ?? ''}" (${where} from ${spec.origin}).`,
        'Check the user name and password, and that pg_hba.conf admits this user from this host.',
        err,
      );
    }
    if (code === '3D000') {
      return new ConnectionError(
        'database_missing',
        `The database "${spec.database}" does not exist on PostgreSQL at ${server} (${where} from ${spec.origin}).`,
        `Create it first, e.g. CREATE DATABASE ${spec.database} OWNER ${spec.user ?? 'placement'};`,
        err,
      );
    }
    if (PERMISSION_CODES.has(code)) {
      return new ConnectionError(
        'permission',
        `PostgreSQL at ${server} denied user "${spec.user ?? ''}" access to the database "${spec.database}" (${where} from ${spec.origin}).`,
        `Grant it, e.g. GRANT CONNECT, CREATE ON DATABASE ${spec.database} TO ${spec.user ?? 'placement'};`,
        err,
      );
    }
    const message = err instanceof Error ? err.message : '';
    const reason = NETWORK_ERROR_CODES.has(code)
      ? describeNetworkError(code)
      : /timeout/i.test(message)
        ? 'the server did not answer in time'
        : `the connection failed (${code === 'UNKNOWN' ? message : code})`;
    return new ConnectionError(
      'unreachable',
      `Cannot connect to PostgreSQL at ${server}: ${reason} (${where} from ${spec.origin}).`,
      'Check the host and port, that the server is running, and that no firewall is in the way.',
      err,
    );
  },

  isPermissionError: (err: unknown) => PERMISSION_CODES.has(errorCode(err) ?? ''),

  isUniqueViolation: (err: unknown) => errorCode(err) === '23505',

  isForeignKeyViolation: (err: unknown) => errorCode(err) === '23503',

  uniqueViolationColumns(err: unknown): string[] {
    const detail = String((err as { detail?: unknown }).detail ?? '');
    const key = /^Key \(([^)]*)\)=/.exec(detail);
    if (key) return key[1]!.split(', ');
    const constraint = (err as { constraint?: unknown }).constraint;
    return typeof constraint === 'string' ? columnsOfConstraint(constraint) : [];
  },

  placementDriver: {
    paramStyle: 'pyformat',
    insertReturnsId: true,
    bindsProcessed: false,
    exception(err: unknown) {
      const e = err as { code?: unknown; message?: unknown; detail?: unknown };
      if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
      // psycopg2.errors names a class per SQLSTATE; the ones placement meets:
      const names: Record<string, string> = {
        '23505': 'UniqueViolation',
        '23503': 'ForeignKeyViolation',
        '23502': 'NotNullViolation',
      };
      const message = String(e.message ?? '').replace(/^[\s\S]* - (?=[^-]*$)/, '');
      return {
        className: `psycopg2.errors.${names[e.code] ?? 'DatabaseError'}`,
        dbapiClass: e.code.startsWith('23') ? 'IntegrityError' : 'DatabaseError',
        // psycopg2's str() is the server's message, its DETAIL line and a final newline.
        message: `${message}\n${typeof e.detail === 'string' ? `DETAIL:  ${e.detail}\n` : ''}`,
      };
    },
  },

  storageFault(err) {
    switch (errorCode(err)) {
      case '53100':
        return 'the server has no room left on its disk';
      case '58030':
        return 'the server failed a read or write on its disk';
      case '25006':
        return 'the server refuses writes (a read-only transaction or a standby)';
      case '3D000':
        return 'the database was dropped while in use';
      case '42P01':
        return 'a table it was using no longer exists (dropped while in use)';
      default:
        return null;
    }
  },

  connectionLost(err: unknown): string | null {
    const code = errorCode(err);
    // admin_shutdown, crash_shutdown, cannot_connect_now: the server ended the session.
    if (code === '57P01' || code === '57P02' || code === '57P03') {
      return 'the server terminated the session (shut down, restarted, or pg_terminate_backend)';
    }
    if (code?.startsWith('08')) return 'the connection failed';
    // node-postgres raises a code-less Error when the socket closes under a query.
    if (err instanceof Error && /^Connection terminated/.test(err.message.split(' - ').pop()!)) {
      return 'the server closed the connection';
    }
    return describeLostSocket(code);
  },

  withExplicitZeroIds: <T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>) =>
    db.transaction(work),

  rows<T>(result: unknown): T[] {
    return ((result as { rows?: T[] }).rows ?? []) as T[];
  },

  quote,

  affectedRows: (result: unknown) => Number((result as { rowCount?: number })?.rowCount ?? 0),

  // character_not_in_repertoire, untranslatable_character
  isUnstorableText: (err: unknown) => ['22021', '22P05'].includes(errorCode(err) ?? ''),
  isTransientConflict: (err: unknown) => TRANSIENT_CODES.has(errorCode(err) ?? ''),
  clusterFault: () => null,

  async nonUnicodeText(db: Knex): Promise<NonUnicodeText[]> {
    const [row] = this.rows<{ charset: string }>(
      await db.raw(
        'SELECT pg_encoding_to_char(encoding) AS charset FROM pg_database WHERE datname = current_database()',
      ),
    );
    return row && row.charset !== 'UTF8'
      ? [{ table: null, column: null, charset: row.charset }]
      : [];
  },

  createTableSql(table: TableDef): string[] {
    return [
      renderCreateTable(table, quote, columnSql),
      ...(table.indexes ?? []).map((i) => renderCreateIndex(table.name, i, quote)),
    ];
  },

  createIndexSql: (table, index) => renderCreateIndex(table, index, quote),
  createIndexesSql: (table, indexes) => indexes.map((i) => renderCreateIndex(table, i, quote)),

  dropIndexSql: (_table, index) => `DROP INDEX ${quote(index)}`,

  addColumnSql: (table, column, fk) => renderAddColumn(table, column, fk, quote, columnSql),
  addForeignKeySql: (table, column, fk) => renderAddForeignKey(table, column, fk, quote),

  newColumnKeySession: { enter: [], exit: [] },

  bulkLoadSession: { enter: [], exit: [] },

  dropTableSql: (table) => `DROP TABLE ${quote(table)} CASCADE`,

  async refreshStatistics(db: Knex, tables: readonly string[]): Promise<void> {
    // VACUUM too: a freshly loaded table's visibility map is empty, so every
    // index-only scan (the online data migrations' walk of allocations, the
    // API's look-ups) read the heap as well; 1M allocations: 0.5 s, and the
    // data migrations 6.6 s → 4.4 s.
    if (tables.length > 0) await db.raw(`VACUUM (ANALYZE) ${tables.map(quote).join(', ')}`);
  },

  async advanceSequence(db: Knex, table: string, column: string): Promise<void> {
    // is_called = false when the table is empty, so the next id is 1 again.
    await db.raw(
      `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX(${quote(column)}), 1), MAX(${quote(column)}) IS NOT NULL) FROM ${quote(table)}`,
      [quote(table), column],
    );
  },

  async listTables(db: Knex): Promise<string[]> {
    const rows = this.rows<{ name: string }>(
      await db.raw(
        "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname",
      ),
    );
    return rows.map((r) => r.name);
  },

  async introspect(db: Knex): Promise<SchemaSnapshot> {
    const q = async <T>(sql: string) => this.rows<T>(await db.raw(sql));
    const tables = await this.listTables(db);
    const columns = await q<{
      t: string;
      name: string;
      type: string;
      len: number | null;
      nullable: string;
      def: string | null;
    }>(
      `SELECT table_name AS t, column_name AS name, data_type AS type, character_maximum_length AS len,
              is_nullable AS nullable, column_default AS def
         FROM information_schema.columns WHERE table_schema = current_schema()
        ORDER BY table_name, ordinal_position`,
    );
    const constraints = await q<{
      t: string;
      name: string;
      type: string;
      cols: string[];
      refTable: string | null;
      refCols: string[] | null;
    }>(
      `SELECT rel.relname AS t, con.conname AS name, con.contype AS type,
              ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord)::text[] AS cols,
              ref.relname AS "refTable",
              ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)::text[] AS "refCols"
         FROM pg_constraint con
         JOIN pg_class rel ON rel.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = rel.relnamespace
         LEFT JOIN pg_class ref ON ref.oid = con.confrelid
        WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f')
        ORDER BY rel.relname, con.conname`,
    );
    const indexes = await q<{ t: string; name: string; unique: boolean; cols: string[] }>(
      `SELECT t.relname AS t, i.relname AS name, ix.indisunique AS unique,
              ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(num, ord)
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.num ORDER BY k.ord)::text[] AS cols
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = current_schema()
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u'))
        ORDER BY t.relname, i.relname`,
    );

    const snapshot: SchemaSnapshot = { tables: {} };
    for (const name of tables) {
      snapshot.tables[name] = {
        columns: [],
        primaryKey: { name: null, columns: [] },
        uniques: [],
        indexes: [],
        foreignKeys: [],
      };
    }
    const table = (name: string): TableSnapshot | undefined => snapshot.tables[name];
    for (const c of columns) {
      const serial = c.def !== null && c.def.startsWith('nextval(');
      table(c.t)?.columns.push({
        name: c.name,
        type: c.len !== null ? `${c.type}(${c.len})` : c.type,
        nullable: c.nullable === 'YES',
        default: serial ? null : c.def,
        autoincrement: serial,
      });
    }
    for (const c of constraints) {
      const t = table(c.t);
      if (!t) continue;
      if (c.type === 'p') t.primaryKey = { name: c.name, columns: c.cols };
      else if (c.type === 'u') t.uniques.push({ name: c.name, columns: c.cols });
      else
        t.foreignKeys.push({
          name: c.name,
          columns: c.cols,
          refTable: c.refTable ?? '',
          refColumns: c.refCols ?? [],
        });
    }
    for (const i of indexes)
      table(i.t)?.indexes.push({ name: i.name, columns: i.cols, unique: i.unique });
    return snapshot;
  },

  async withSchemaLock<T>(
    db: Knex,
    lockName: string,
    timeoutSeconds: number,
    work: () => Promise<T>,
  ): Promise<T> {
    // One transaction for the whole run, as alembic does on PostgreSQL; the
    // advisory lock is released by COMMIT/ROLLBACK, so a crash cannot leak it.
    await db.raw('BEGIN');
    try {
      await db.raw(`SET LOCAL lock_timeout = '${Math.max(1, Math.round(timeoutSeconds))}s'`);
      try {
        await db.raw('SELECT pg_advisory_xact_lock(?)', [lockKey(lockName)]);
      } catch (err) {
        if (errorCode(err) === '55P03') {
          throw new LockedError(
            `Another placement-upgrade run holds the schema lock on this database (waited ${timeoutSeconds} s).`,
            'Wait for the other run to finish, or raise --lock-timeout.',
          );
        }
        throw err;
      }
      await db.raw('SET LOCAL lock_timeout = 0');
      const result = await work();
      await db.raw('COMMIT');
      return result;
    } catch (err) {
      await db.raw('ROLLBACK').catch(() => undefined);
      throw err;
    }
  },

  async beginSnapshot(db: Knex): Promise<void> {
    await db.raw('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  },

  async endSnapshot(db: Knex): Promise<void> {
    await db.raw('COMMIT');
  },

  sharedSnapshot: {
    async export(db) {
      const result = await db.raw<{ rows: { name: string }[] }>(
        'SELECT pg_export_snapshot() AS name',
      );
      return result.rows[0]!.name;
    },
    async join(db, name) {
      // The snapshot must be set before the transaction's first query; its
      // name is the server's own text, quoted as a literal all the same.
      await db.raw('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await db.raw(`SET TRANSACTION SNAPSHOT '${name.replace(/'/g, "''")}'`);
    },
  },

  tableDigestSql(table, columns) {
    // A row's text form quotes what needs it and leaves NULL empty, so it is
    // unambiguous; sum() over bigint is numeric, so exact.
    const row = `ROW(${columns.map(quote).join(', ')})::text`;
    return `SELECT count(*) AS n, COALESCE(sum(('x' || left(md5(${row}), 15))::bit(60)::bigint), 0)::text AS d FROM ${quote(table)}`;
  },

  packIntegersSql(columns) {
    return `string_agg(${columns.map((c) => `(${c})::text`).join(" || ',' || ")}, ';')`;
  },
  packTextSql(columns) {
    return `string_agg(concat_ws(',', ${columns.map((c) => `COALESCE((${c})::text, '')`).join(', ')}), ';')`;
  },
  exactFloatTextSql: (expr) => `(${expr})::text`,
  inIdListSql(column) {
    return `${column} = ANY(?::int[])`;
  },
  idListBindings: (ids) => [ids],
  maxIdList: Number.POSITIVE_INFINITY,
  maxBindParameters: 65535,
  maxConcurrentWriters: Number.POSITIVE_INFINITY,

  streamCopy: pgStreamCopy,

  async insertRows(db, table, columns, rows) {
    // COPY is several times faster than INSERT on PostgreSQL (what pg_dump | psql uses).
    if (rows.length > 0) await loadCopyText(db, { table, columns }, copyLines(rows));
  },

  async collidingValues(_db: Knex, values: readonly string[]): Promise<string[][]> {
    // Default (deterministic) collations compare byte-wise for uniqueness.
    return exactDuplicates(values);
  },

  async narrowCharset(): Promise<string | null> {
    // PostgreSQL databases placement uses are UTF8; the encoding is fixed at CREATE DATABASE.
    return null;
  },

  async unstorableValues(): Promise<string[]> {
    return [];
  },

  timestampFractionDigits: 6,
};
