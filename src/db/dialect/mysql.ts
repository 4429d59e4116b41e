import type { Knex } from 'knex';
import { connect as netConnect, isIP } from 'node:net';
import mysql, { type ConnectionOptions, type SslOptions } from 'mysql2/promise';
import { ConnectionError, LockedError, TlsConnectionError } from '../../errors/errors.js';
import { UNVERIFIED_TLS, type TlsOptions } from '../tls.js';
import { describeNode, galeraFault, galeraNode, withClusterLock } from './galera.js';
import { onOneConnection } from '../pool-connection.js';
import { mysqlInsertStatements } from './mysql-literal.js';
import { mysqlServerCopy } from './mysql-server-copy.js';
import type { ColumnDef, SchemaSnapshot, TableDef, TableSnapshot } from '../../schema/model.js';
import { displayUrl, type ConnectionSpec } from '../url.js';
import {
  describeLostSocket,
  describeNetworkError,
  describeTlsFailure,
  columnsOfConstraint,
  errorCode,
  GENERIC_TYPE_NAMES,
  placeholderList,
  NETWORK_ERROR_CODES,
  renderAddColumn,
  renderAddForeignKey,
  renderColumn,
  renderCreateIndex,
  renderCreateTable,
  tlsHint,
  type Dialect,
  type TypeNames,
  type NonUnicodeText,
  type PoolOptions,
  type WriteSetLimits,
} from './dialect.js';

const quote = (s: string) => `\`${s.replace(/`/g, '``')}\``;

const TYPES: TypeNames = { ...GENERIC_TYPE_NAMES, boolean: 'BOOL' };

/**
 * Sends a statement that holds no placeholder on a pooled connection (the
 * driver's callback API), as it is: knex would scan a copy's multi-megabyte
 * INSERT for its debug log, and the driver for placeholders, neither of
 * which it has (about 0.5 s of CPU over 1M allocations). A null `values` is
 * the driver's way of saying there is nothing to format.
 */
function sendAsWritten(conn: unknown, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    (
      conn as {
        query(options: { sql: string; values: null }, cb: (err: Error | null) => void): void;
      }
    ).query({ sql, values: null }, (err) => (err ? reject(err) : resolve()));
  });
}

const columnSql = (c: ColumnDef) =>
  renderColumn(c, quote, TYPES, [
    c.collation && `COLLATE ${c.collation}`,
    c.autoincrement && 'AUTO_INCREMENT',
  ]);

// Server error numbers (https://mariadb.com/kb/en/mariadb-error-codes/).
const AUTH_CODES = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_NOT_SUPPORTED_AUTH_MODE',
  'ER_ACCESS_DENIED_NO_PASSWORD_ERROR',
]);
const PERMISSION_CODES = new Set([
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_PROCACCESS_DENIED_ERROR',
]);

// Deadlock, lock wait timeout: InnoDB rolled the statement or transaction back; retrying is safe.
const TRANSIENT_CODES = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);

/**
 * A new connection's reads wait until its node has applied everything the
 * cluster committed before them (wsrep_sync_wait = 1), on a Galera node
 * only: a plain MySQL has no such variable, a MariaDB without wsrep needs
 * none, and a node that is not ready could not serve one.
 */
function causalReadsOnGalera(
  conn: { query(sql: string, cb: (err: Error | null, rows?: unknown) => void): void },
  done: (err: Error | null, conn: unknown) => void,
): void {
  const value = (rows: unknown) => (rows as { Value?: string }[] | undefined)?.[0]?.Value;
  conn.query("SHOW VARIABLES LIKE 'wsrep_on'", (err, rows) => {
    if (err || value(rows) !== 'ON') return done(null, conn);
    // A node that is not ready could never satisfy a causal read: each would
    // wait out its timeout. Left as it is, its first query says why (1047).
    conn.query("SHOW GLOBAL STATUS LIKE 'wsrep_ready'", (statusErr, status) => {
      if (statusErr || value(status) !== 'ON') return done(null, conn);
      conn.query('SET SESSION wsrep_sync_wait = 1', (setErr) => done(setErr, conn));
    });
  });
}

/** The parameter names the TLS hints give, PyMySQL's. */
const TLS_NAMES = {
  ca: 'ssl_ca=',
  encryptOnly: 'ssl_mode=REQUIRED',
  chainOnly: 'ssl_check_hostname=false',
  off: 'no ssl_* parameters',
};

/** mysql2's ssl option for TLS settings: verification off, the chain, or the chain and the host name. */
function mysqlSsl(tls: TlsOptions): SslOptions {
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    ciphers: tls.ciphers,
    rejectUnauthorized: tls.verify !== 'none',
    verifyIdentity: tls.verify === 'full',
  };
}

/**
 * The TCP socket mysql2 is to use, where its own would not do: one from the
 * option file's bind-address (mysql2 takes a localAddress option but never
 * uses it), or one for a TLS connection to an IP address whose certificate
 * must name it. mysql2 gives Node no host name for an IP address (no SNI),
 * so Node would check the certificate against "localhost"; the socket's
 * _host is where Node looks for the name before that. Undefined for mysql2's
 * own socket.
 */
function tcpSocket(spec: ConnectionSpec, tls: TlsOptions | null | undefined) {
  if (spec.socketPath || !spec.host) return undefined;
  const { host, bindAddress: localAddress } = spec;
  const port = spec.port ?? 3306;
  const named = tls?.verify === 'full' && isIP(host) !== 0;
  if (!named && !localAddress) return undefined;
  return () => {
    const socket = netConnect({ port, host, localAddress });
    socket.setNoDelay(true);
    if (named) (socket as unknown as { _host: string })._host = host;
    return socket;
  };
}

// Authentication plugins that send the password itself over a TLS connection.
const CLEARTEXT_OVER_TLS = [
  'caching_sha2_password',
  'sha256_password',
  'mysql_clear_password',
  'dialog',
];

/** Where a MySQL server is, for messages. */
const serverOf = (spec: ConnectionSpec) =>
  spec.socketPath ? `the socket ${spec.socketPath}` : `${spec.host}:${spec.port ?? 3306}`;

function tlsError(
  problem: ConstructorParameters<typeof TlsConnectionError>[0],
  reason: string,
  spec: ConnectionSpec,
  err: unknown,
): TlsConnectionError {
  return new TlsConnectionError(
    problem,
    `Cannot connect to MySQL at ${serverOf(spec)} over TLS: ${reason} (${displayUrl(spec)} from ${spec.origin}).`,
    tlsHint(problem, TLS_NAMES),
    err,
  );
}

/** The server refused a plain connection because it accepts only TLS ones. */
function tlsRequired(spec: ConnectionSpec, err: unknown): TlsConnectionError {
  return new TlsConnectionError(
    'required',
    `Cannot connect to MySQL at ${serverOf(spec)}: it accepts only TLS connections (require_secure_transport, or REQUIRE SSL for the user), and the URL asks for none (${displayUrl(spec)} from ${spec.origin}).`,
    tlsHint('required', TLS_NAMES),
    err,
  );
}

/** MySQL and MariaDB, through mysql2. */
export const mysqlDialect: Dialect = {
  engine: 'mysql',
  displayName: 'MySQL/MariaDB',
  supportsTransactionalDdl: false,
  supportsReturning: false,

  knexConfig(spec: ConnectionSpec, options: PoolOptions, tls?: TlsOptions | null): Knex.Config {
    return {
      client: 'mysql2',
      connection: {
        host: spec.socketPath ? undefined : spec.host,
        port: spec.socketPath ? undefined : (spec.port ?? 3306),
        socketPath: spec.socketPath,
        user: spec.user,
        password: spec.password,
        database: spec.database,
        // Always utf8mb4 on the wire, whatever charset= says: the server
        // converts latin1 columns, and 4-byte characters survive.
        charset: 'utf8mb4',
        // Keep DATETIME values as the text the server holds: no time-zone shift.
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: false,
        connectTimeout: options.connectTimeoutSeconds * 1000,
        multipleStatements: false,
        ssl: tls ? mysqlSsl(tls) : undefined,
        stream: tcpSocket(spec, tls),
      } as Knex.MySql2ConnectionConfig,
      pool: {
        min: 0,
        max: options.max,
        ...(options.causalReads ? { afterCreate: causalReadsOnGalera } : {}),
      },
      acquireConnectionTimeout: (options.connectTimeoutSeconds + 5) * 1000,
    };
  },

  classifyConnectError(err: unknown, spec: ConnectionSpec): ConnectionError {
    const code = errorCode(err) ?? 'UNKNOWN';
    const where = displayUrl(spec);
    const server = serverOf(spec);
    if (code === 'HANDSHAKE_NO_SSL_SUPPORT') {
      return tlsError(
        'unsupported',
        'the server does not offer TLS, and the URL requires it',
        spec,
        err,
      );
    }
    if (code === 'ER_SECURE_TRANSPORT_REQUIRED') {
      return tlsRequired(spec, err);
    }
    const tls = describeTlsFailure(err);
    if (tls) return tlsError(tls.problem, tls.reason, spec, err);
    if (AUTH_CODES.has(code)) {
      return new ConnectionError(
        'auth',
        `MySQL at ${server} refused the login of user "${spec.user ?? ''}" (${where} from ${spec.origin}).`,
        'Check the user name and password; a password can also be given in the environment variable named in --help.',
        err,
      );
    }
    if (code === 'ER_BAD_DB_ERROR') {
      return new ConnectionError(
        'database_missing',
        `The database "${spec.database}" does not exist on MySQL at ${server} (${where} from ${spec.origin}).`,
        `Create it first, e.g. CREATE DATABASE ${spec.database}; and grant the user access to it.`,
        err,
      );
    }
    if (PERMISSION_CODES.has(code)) {
      return new ConnectionError(
        'permission',
        `MySQL at ${server} denied user "${spec.user ?? ''}" access to the database "${spec.database}" (${where} from ${spec.origin}).`,
        `Grant the privileges, e.g. GRANT ALL PRIVILEGES ON ${spec.database}.* TO '${spec.user ?? ''}'@'%';`,
        err,
      );
    }
    const reason = NETWORK_ERROR_CODES.has(code)
      ? describeNetworkError(code)
      : `the connection failed (${code})`;
    return new ConnectionError(
      'unreachable',
      `Cannot connect to MySQL at ${server}: ${reason} (${where} from ${spec.origin}).`,
      code === 'EADDRNOTAVAIL'
        ? 'Give bind-address, in the option file the URL names, an address of this host (or remove it).'
        : 'Check the host and port, that the server is running, and that no firewall is in the way.',
      err,
    );
  },

  async tlsRequiredByServer(err: unknown, spec: ConnectionSpec, options: PoolOptions) {
    if (errorCode(err) !== 'ER_ACCESS_DENIED_ERROR') return null;
    // The same login over TLS, unverified, closed at once: it sends what the
    // plain attempt already sent (a native scramble), and no plugin that
    // would send the password itself is allowed to run.
    const refuse = () => () => {
      throw new Error('not during a TLS probe');
    };
    const config = mysqlDialect.knexConfig(spec, options, UNVERIFIED_TLS)
      .connection as ConnectionOptions;
    try {
      const probe = await mysql.createConnection({
        ...config,
        authPlugins: Object.fromEntries(CLEARTEXT_OVER_TLS.map((name) => [name, refuse])),
      });
      await probe.end().catch(() => undefined);
    } catch {
      return null;
    }
    return tlsRequired(spec, err);
  },

  isPermissionError(err: unknown): boolean {
    return PERMISSION_CODES.has(errorCode(err) ?? '') || errorCode(err) === 'ER_CANT_CREATE_TABLE';
  },

  storageFault(err) {
    const e = err as { errno?: unknown; sqlMessage?: unknown } | null;
    switch (e?.errno) {
      case 1114: // ER_RECORD_FILE_FULL
      case 1021: // ER_DISK_FULL
        return 'the server has no room left for the table (disk full, or a tablespace limit)';
      case 1049: // ER_BAD_DB_ERROR, mid-run
        return 'the database was dropped while in use';
      case 1146: // ER_NO_SUCH_TABLE, mid-run
        return 'a table it was using no longer exists (dropped while in use)';
      case 1290: // ER_OPTION_PREVENTS_STATEMENT
        return 'the server refuses writes (read_only, or a node that is not primary)';
      default:
        return /No space left on device|errno: 28/.test(String(e?.sqlMessage ?? ''))
          ? 'the server has no room left on its disk'
          : null;
    }
  },

  connectionLost(err: unknown): string | null {
    // MariaDB's "Connection was killed" (KILL CONNECTION) has no name in mysql2: errno 1927.
    if ((err as { errno?: unknown } | null)?.errno === 1927) {
      return 'the session was killed on the server';
    }
    switch (errorCode(err)) {
      case 'PROTOCOL_CONNECTION_LOST':
        return 'the server closed the connection';
      case 'ER_SERVER_SHUTDOWN':
        return 'the server is shutting down';
      default:
        return describeLostSocket(errorCode(err));
    }
  },

  rows<T>(result: unknown): T[] {
    return (Array.isArray(result) ? result[0] : result) as T[];
  },

  isUniqueViolation: (err: unknown) => errorCode(err) === 'ER_DUP_ENTRY',

  uniqueViolationColumns(err: unknown): string[] {
    const message = String((err as { sqlMessage?: unknown }).sqlMessage ?? '');
    const m = /Duplicate entry '[\s\S]*' for key '(?:[^']+\.)?([^']+)'/.exec(message);
    return m ? columnsOfConstraint(m[1]!) : [];
  },

  placementDriver: {
    paramStyle: 'pyformat',
    insertReturnsId: false,
    bindsProcessed: false,
    exception(err: unknown) {
      const e = err as { errno?: unknown; sqlMessage?: unknown; code?: unknown };
      if (typeof e.errno !== 'number' || typeof e.sqlMessage !== 'string') return null;
      // PyMySQL raises IntegrityError for the constraint errors, OperationalError for most others.
      const integrity = [1062, 1451, 1452, 1048, 1364].includes(e.errno);
      const dbapiClass = integrity ? 'IntegrityError' : 'OperationalError';
      return {
        className: `pymysql.err.${dbapiClass}`,
        dbapiClass,
        errno: e.errno,
        message: e.sqlMessage,
      };
    },
  },

  isForeignKeyViolation: (err: unknown) =>
    [
      'ER_NO_REFERENCED_ROW',
      'ER_NO_REFERENCED_ROW_2',
      'ER_ROW_IS_REFERENCED',
      'ER_ROW_IS_REFERENCED_2',
    ].includes(errorCode(err) ?? ''),

  async withExplicitZeroIds<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return db.transaction(async (trx) => {
      const [row] = this.rows<{ mode: string }>(await trx.raw('SELECT @@SESSION.sql_mode AS mode'));
      await trx.raw(
        "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_AUTO_VALUE_ON_ZERO')",
      );
      try {
        return await work(trx);
      } finally {
        // The connection goes back to the pool: leave its session as it was.
        await trx.raw('SET SESSION sql_mode = ?', [row?.mode ?? '']);
      }
    });
  },

  quote,

  affectedRows(result: unknown): number {
    const header = (Array.isArray(result) ? result[0] : result) as { affectedRows?: number };
    return Number(header?.affectedRows ?? 0);
  },

  isUnstorableText: (err: unknown) => errorCode(err) === 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  isTransientConflict: (err: unknown) => TRANSIENT_CODES.has(errorCode(err) ?? ''),
  clusterFault: galeraFault,
  serverCopy: mysqlServerCopy((r) => mysqlDialect.rows(r)),
  async unreadyNode(db: Knex): Promise<string | null> {
    const node = await galeraNode(db, (r) => this.rows(r));
    if (!node || node.ready) return null;
    return describeNode(db, (r) => this.rows(r));
  },
  async writeSetLimits(db: Knex): Promise<WriteSetLimits | null> {
    const node = await galeraNode(db, (r) => this.rows(r));
    if (!node) return null;
    return {
      node: node.nodeName,
      rows: node.maxWsRows,
      bytes: node.maxWsSize,
      annotate: node.annotateRows,
    };
  },
  clusterNodeState(db: Knex): Promise<string> {
    return describeNode(db, (r) => this.rows(r));
  },

  async nonUnicodeText(db: Knex): Promise<NonUnicodeText[]> {
    const tables = this.rows<{ t: string; charset: string }>(
      await db.raw(
        "SELECT t.TABLE_NAME AS t, c.CHARACTER_SET_NAME AS charset FROM information_schema.TABLES t JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c ON c.COLLATION_NAME = t.TABLE_COLLATION WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' AND c.CHARACTER_SET_NAME NOT LIKE 'utf8%' ORDER BY t.TABLE_NAME",
      ),
    );
    const columns = this.rows<{ t: string; col: string; charset: string }>(
      await db.raw(
        "SELECT TABLE_NAME AS t, COLUMN_NAME AS col, CHARACTER_SET_NAME AS charset FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IS NOT NULL AND CHARACTER_SET_NAME NOT LIKE 'utf8%' ORDER BY TABLE_NAME, ORDINAL_POSITION",
      ),
    );
    return [
      ...tables.map((r) => ({ table: r.t, column: null, charset: r.charset })),
      ...columns.map((r) => ({ table: r.t, column: r.col, charset: r.charset })),
    ];
  },

  createTableSql(table: TableDef): string[] {
    const options = table.charset ? ` ENGINE=InnoDB DEFAULT CHARSET=${table.charset}` : '';
    return [
      renderCreateTable(table, quote, columnSql) + options,
      ...(table.indexes ?? []).map((i) => renderCreateIndex(table.name, i, quote)),
    ];
  },

  createIndexSql: (table, index) => renderCreateIndex(table, index, quote),
  createIndexesSql: (table, indexes) =>
    indexes.length === 0
      ? []
      : [
          `ALTER TABLE ${quote(table)} ${indexes
            .map((i) => `ADD INDEX ${quote(i.name)} (${i.columns.map(quote).join(', ')})`)
            .join(', ')}`,
        ],

  dropIndexSql: (table, index) => `DROP INDEX ${quote(index)} ON ${quote(table)}`,

  addColumnSql: (table, column, fk) => renderAddColumn(table, column, fk, quote, columnSql),
  addForeignKeySql: (table, column, fk) => renderAddForeignKey(table, column, fk, quote),

  newColumnKeySession: {
    enter: ['SET SESSION foreign_key_checks = 0'],
    exit: ['SET SESSION foreign_key_checks = 1'],
  },

  bulkLoadSession: {
    enter: ['SET SESSION unique_checks = 0'],
    exit: ['SET SESSION unique_checks = 1'],
  },

  dropTableSql: (table) => `DROP TABLE ${quote(table)}`,

  async refreshStatistics(): Promise<void> {
    // Nothing to do (see Dialect.refreshStatistics).
  },

  async advanceSequence(): Promise<void> {
    // AUTO_INCREMENT moves past explicit ids by itself.
  },

  async listTables(db: Knex): Promise<string[]> {
    const rows = this.rows<{ name: string }>(
      await db.raw(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      ),
    );
    return rows.map((r) => r.name);
  },

  async introspect(db: Knex): Promise<SchemaSnapshot> {
    const q = async <T>(sql: string) => this.rows<T>(await db.raw(sql));
    const tables = await q<{ name: string; collation: string }>(
      "SELECT TABLE_NAME AS name, TABLE_COLLATION AS collation FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    );
    const columns = await q<{
      t: string;
      name: string;
      type: string;
      nullable: string;
      def: string | null;
      extra: string;
    }>(
      'SELECT TABLE_NAME AS t, COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION',
    );
    const stats = await q<{ t: string; name: string; nonUnique: number | string; col: string }>(
      'SELECT TABLE_NAME AS t, INDEX_NAME AS name, NON_UNIQUE AS nonUnique, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX',
    );
    const fks = await q<{ t: string; name: string; col: string; refTable: string; refCol: string }>(
      'SELECT TABLE_NAME AS t, CONSTRAINT_NAME AS name, COLUMN_NAME AS col, REFERENCED_TABLE_NAME AS refTable, REFERENCED_COLUMN_NAME AS refCol FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION',
    );

    const snapshot: SchemaSnapshot = { tables: {} };
    for (const t of tables) {
      snapshot.tables[t.name] = {
        columns: [],
        primaryKey: { name: null, columns: [] },
        uniques: [],
        indexes: [],
        foreignKeys: [],
        collation: t.collation,
      };
    }
    const table = (name: string): TableSnapshot | undefined => snapshot.tables[name];
    for (const c of columns) {
      const def = c.def === null || c.def === 'NULL' ? null : c.def.replace(/^'(.*)'$/, '$1');
      table(c.t)?.columns.push({
        name: c.name,
        type: c.type.toLowerCase(),
        nullable: c.nullable === 'YES',
        default: def,
        autoincrement: /auto_increment/i.test(c.extra),
      });
    }
    const indexes = new Map<
      string,
      { t: string; name: string; unique: boolean; columns: string[] }
    >();
    for (const s of stats) {
      const key = `${s.t}\u0000${s.name}`;
      const entry = indexes.get(key) ?? {
        t: s.t,
        name: s.name,
        unique: Number(s.nonUnique) === 0,
        columns: [],
      };
      entry.columns.push(s.col);
      indexes.set(key, entry);
    }
    for (const i of indexes.values()) {
      const t = table(i.t);
      if (!t) continue;
      if (i.name === 'PRIMARY') t.primaryKey = { name: null, columns: i.columns };
      else if (i.unique) t.uniques.push({ name: i.name, columns: i.columns });
      else t.indexes.push({ name: i.name, columns: i.columns, unique: false });
    }
    const fkMap = new Map<
      string,
      { t: string; name: string; columns: string[]; refTable: string; refColumns: string[] }
    >();
    for (const f of fks) {
      const key = `${f.t}\u0000${f.name}`;
      const entry = fkMap.get(key) ?? {
        t: f.t,
        name: f.name,
        columns: [],
        refTable: f.refTable,
        refColumns: [],
      };
      entry.columns.push(f.col);
      entry.refColumns.push(f.refCol);
      fkMap.set(key, entry);
    }
    for (const f of fkMap.values()) {
      table(f.t)?.foreignKeys.push({
        name: f.name,
        columns: f.columns,
        refTable: f.refTable,
        refColumns: f.refColumns,
      });
    }
    return snapshot;
  },

  async withSchemaLock<T>(
    db: Knex,
    lockName: string,
    timeoutSeconds: number,
    work: () => Promise<T>,
    notice?: (line: string) => void,
  ): Promise<T> {
    // GET_LOCK holds on one Galera node only: a cluster takes a lock of its own.
    const node = await galeraNode(db, (r) => this.rows(r));
    if (node) return withClusterLock(db, this, node, timeoutSeconds, work, notice);
    // GET_LOCK is server-wide, so the name carries the database name. It is
    // a session lock: the schema connection pool has exactly one connection.
    const [dbRow] = this.rows<{ name: string }>(await db.raw('SELECT DATABASE() AS name'));
    const name = `${lockName}:${dbRow?.name ?? ''}`.slice(0, 64);
    const [row] = this.rows<{ got: number | null }>(
      await db.raw('SELECT GET_LOCK(?, ?) AS got', [name, timeoutSeconds]),
    );
    if (Number(row?.got) !== 1) {
      throw new LockedError(
        `Another placement-upgrade run holds the schema lock on this database (waited ${timeoutSeconds} s).`,
        'Wait for the other run to finish, or raise --lock-timeout.',
      );
    }
    try {
      return await work();
    } finally {
      await db.raw('SELECT RELEASE_LOCK(?)', [name]);
    }
  },

  async beginSnapshot(db: Knex): Promise<void> {
    await db.raw('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await db.raw('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  },

  async endSnapshot(db: Knex): Promise<void> {
    await db.raw('COMMIT');
  },

  packIntegersSql(columns) {
    // The result is cut at group_concat_max_len (Access.integers sees that
    // by the count, and reads the rows instead).
    return `GROUP_CONCAT(CONCAT_WS(',', ${columns.join(', ')}) SEPARATOR ';')`;
  },
  packTextSql(columns) {
    return `GROUP_CONCAT(CONCAT_WS(',', ${columns.map((c) => `COALESCE(${c}, '')`).join(', ')}) SEPARATOR ';')`;
  },
  // A FLOAT column is single precision: its text and the double the driver
  // reads from the row are not known to agree in every digit.
  exactFloatTextSql: () => null,
  inIdListSql: (column, count) => `${column} IN (${placeholderList(count)})`,
  idListBindings: (ids) => [...ids],
  maxIdList: 2000,
  tableDigestSql(table, columns) {
    // QUOTE() tells NULL from 'NULL' and '' apart; the separator is a byte no
    // quoted value holds unescaped. 15 hex digits fit an unsigned BIGINT,
    // and SUM over BIGINT is exact (DECIMAL).
    const row = `CONCAT_WS(0x1f, ${columns.map((c) => `QUOTE(${quote(c)})`).join(', ')})`;
    return `SELECT COUNT(*) AS n, COALESCE(SUM(CAST(CONV(LEFT(MD5(${row}), 15), 16, 10) AS UNSIGNED)), 0) AS d FROM ${quote(table)}`;
  },

  maxBindParameters: 65535,
  maxConcurrentWriters: Number.POSITIVE_INFINITY,

  async insertRows(db, table, columns, rows) {
    // As many rows a statement as placeholders would have allowed.
    const perStatement = Math.max(1, Math.floor(this.maxBindParameters / columns.length));
    const statements = mysqlInsertStatements(table, columns, rows, quote, perStatement);
    if (db.isTransaction) {
      for (const sql of statements) await db.raw(sql);
      return;
    }
    await onOneConnection(db, async (conn) => {
      for (const sql of statements) await sendAsWritten(conn, sql);
    });
  },

  async collidingValues(db: Knex, values: readonly string[], length: number): Promise<string[][]> {
    if (values.length < 2) return [];
    // Let the server's own collation decide: a temporary table (gone with the
    // session) with the database's default collation, as placement's tables have.
    const table = `pu_collide_${process.pid}`;
    await db.raw(`CREATE TEMPORARY TABLE ${quote(table)} (v VARCHAR(${length}) NOT NULL)`);
    try {
      for (let i = 0; i < values.length; i += 1000) {
        const chunk = values.slice(i, i + 1000);
        await db.raw(
          `INSERT INTO ${quote(table)} (v) VALUES ${chunk.map(() => '(?)').join(',')}`,
          chunk as string[],
        );
      }
      const keys = this.rows<{ k: string }>(
        await db.raw(`SELECT MIN(v) AS k FROM ${quote(table)} GROUP BY v HAVING COUNT(*) > 1`),
      );
      const groups: string[][] = [];
      for (const { k } of keys) {
        const members = this.rows<{ v: string }>(
          await db.raw(`SELECT v FROM ${quote(table)} WHERE v = ?`, [k]),
        );
        groups.push(members.map((m) => m.v).sort());
      }
      return groups;
    } finally {
      await db.raw(`DROP TEMPORARY TABLE IF EXISTS ${quote(table)}`);
    }
  },

  async narrowCharset(db: Knex, table: string, column: string): Promise<string | null> {
    const col = this.rows<{ cs: string | null }>(
      await db.raw(
        'SELECT CHARACTER_SET_NAME AS cs FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
        [table, column],
      ),
    )[0];
    const charset =
      col?.cs ??
      this.rows<{ cs: string }>(
        await db.raw(
          'SELECT DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()',
        ),
      )[0]?.cs ??
      'utf8mb4';
    return charset.toLowerCase() === 'utf8mb4' ? null : charset.toLowerCase();
  },

  async unstorableValues(db: Knex, charset: string, values: readonly string[]): Promise<string[]> {
    if (!/^[a-z0-9_]+$/.test(charset)) throw new Error(`unexpected charset name ${charset}`);
    // Only text beyond ASCII can be lost; the server converts it and says what did not survive.
    const wide = [...new Set(values)].filter((v) => /[^ -~\t\n\r]/.test(v));
    const out: string[] = [];
    for (let i = 0; i < wide.length; i += 500) {
      const chunk = wide.slice(i, i + 500);
      const rows = this.rows<{ v: string }>(
        await db.raw(
          `SELECT x.v FROM (${chunk.map(() => 'SELECT ? AS v').join(' UNION ALL ')}) x
            WHERE CONVERT(CONVERT(x.v USING ${charset}) USING utf8mb4) COLLATE utf8mb4_bin <> x.v COLLATE utf8mb4_bin`,
          chunk as string[],
        ),
      );
      out.push(...rows.map((r) => r.v));
    }
    return out;
  },

  timestampFractionDigits: 0,
};
