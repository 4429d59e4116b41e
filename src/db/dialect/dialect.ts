import type { Knex } from 'knex';
import type { ConnectionError } from '../../errors/errors.js';
import type {
  ColumnDef,
  ColumnType,
  ForeignKeyDef,
  IndexDef,
  SchemaSnapshot,
  TableDef,
} from '../../schema/model.js';
import type { ConnectionSpec, Engine } from '../url.js';
import type { TlsOptions } from '../tls.js';

/** Options that shape a connection pool. */
export interface PoolOptions {
  /** Largest number of connections; schema work uses exactly one. */
  max: number;
  /** For SQLite: refuse to create a missing file (a source must already exist). */
  mustExist: boolean;
  /** Seconds to wait for a server to answer before giving up. */
  connectTimeoutSeconds: number;
  /**
   * On a Galera node, every read sees what the whole cluster committed
   * before it (wsrep_sync_wait): what plans, checks and verifications need.
   * A service answering many reads (api serve) reads as placement does.
   */
  causalReads: boolean;
}

/** placement's DBAPI driver for an engine (PyMySQL, psycopg2, sqlite3), as SQLAlchemy 1.4 prints its errors. */
export interface PlacementDriver {
  /** The paramstyle: pyformat (`%(name)s`, parameters printed as a dict) or qmark (`?`, a tuple). */
  readonly paramStyle: 'pyformat' | 'qmark';
  /** SQLAlchemy appends `RETURNING <table>.id` to a single-row INSERT (psycopg2). */
  readonly insertReturnsId: boolean;
  /** SQLAlchemy's types turn datetimes into text and numbers into floats before binding (sqlite3's). */
  readonly bindsProcessed: boolean;
  /**
   * The driver's exception for `err`: its class as SQLAlchemy names it,
   * the DBAPI class it derives from (which SQLAlchemy wraps it in), and
   * the text str() gives (PyMySQL's is its (errno, message) tuple, given
   * here as errno and message); null when `err` is not a database error.
   */
  exception(err: unknown): {
    className: string;
    dbapiClass: 'IntegrityError' | 'OperationalError' | 'DatabaseError';
    errno?: number;
    message: string;
  } | null;
}

/**
 * Everything that differs between MySQL/MariaDB, PostgreSQL and SQLite. The
 * rest of placement-upgrade asks this interface questions and never branches
 * on the engine's name.
 */
/** A Galera node's write-set limits (wsrep_max_ws_rows, 0 for none; wsrep_max_ws_size), and whether statements travel with their rows. */
export interface WriteSetLimits {
  node: string;
  rows: number;
  bytes: number;
  annotate: boolean;
}

/** What clusterFault() found. */
export interface ClusterFault {
  kind: 'not_primary' | 'write_set_too_large';
  /** The server's own words. */
  detail: string;
}

export interface Dialect {
  readonly engine: Engine;
  /** How the engine is called in messages. */
  readonly displayName: string;
  /**
   * DDL can be rolled back, so a whole `db sync` runs in one transaction
   * (PostgreSQL, SQLite). MySQL commits each DDL statement implicitly.
   */
  readonly supportsTransactionalDdl: boolean;
  /**
   * An INSERT can hand back the new row's id with RETURNING through knex
   * (PostgreSQL); elsewhere knex gives the driver's last insert id.
   */
  readonly supportsReturning: boolean;

  /** The knex configuration for a connection; `tls` null for a plain one. */
  knexConfig(spec: ConnectionSpec, options: PoolOptions, tls?: TlsOptions | null): Knex.Config;
  /** Turns a driver error raised while connecting into a typed, operator-readable error. */
  classifyConnectError(err: unknown, spec: ConnectionSpec): ConnectionError;
  /**
   * For an engine whose server refuses a plain login it requires TLS for
   * exactly as a wrong password (MariaDB's require_secure_transport): given
   * the error of a plain attempt, the error that says so once a TLS attempt
   * shows that the same login is accepted over TLS; otherwise null.
   */
  tlsRequiredByServer?(
    err: unknown,
    spec: ConnectionSpec,
    options: PoolOptions,
  ): Promise<ConnectionError | null>;
  /** True when a driver error means "the user lacks a privilege". */
  isPermissionError(err: unknown): boolean;
  /**
   * When a driver error means the session with the server ended during the
   * work (the server closed or reset the connection, shut down, or killed
   * the session), a short description of what happened; otherwise null.
   */
  connectionLost(err: unknown): string | null;
  /** True when a driver error is a unique or primary-key violation. */
  isUniqueViolation(err: unknown): boolean;
  /** True when a driver error is a foreign-key violation (a referenced row is missing, or still referenced). */
  isForeignKeyViolation(err: unknown): boolean;
  /**
   * The columns a unique violation names, as oslo.db reads them from the
   * driver's message (the engine reports the first constraint it checked);
   * empty when the message names none.
   */
  uniqueViolationColumns(err: unknown): string[];
  /**
   * How placement's driver for this engine, under SQLAlchemy, reports a
   * failed statement: where placement passes SQLAlchemy's error text
   * through to a client (a duplicate inventory's 409), ours words it the same.
   */
  readonly placementDriver: PlacementDriver;
  /**
   * What the database's storage refused, in operator's words (the disk is
   * full, the file is not writable, the database was dropped), or null when
   * `err` is not such a fault of the environment.
   */
  storageFault(err: unknown): string | null;
  /**
   * Runs `work` in a transaction in which an explicit id of 0 is stored as 0.
   * MySQL otherwise reads 0 as "the next AUTO_INCREMENT value", and placement
   * stores the standard resource class VCPU with id 0.
   */
  withExplicitZeroIds<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  /** Normalises what knex.raw returns into an array of row objects. */
  rows<T = Record<string, unknown>>(result: unknown): T[];
  /** Quotes an identifier. */
  quote(identifier: string): string;
  /** The number of rows an INSERT, UPDATE or DELETE run through knex.raw changed. */
  affectedRows(result: unknown): number;
  /**
   * True when a statement failed only because a concurrent transaction was
   * in the way (deadlock, lock wait timeout, serialization failure, a busy
   * SQLite file), so the same work can simply be retried.
   */
  isTransientConflict(err: unknown): boolean;
  /**
   * A Galera cluster's refusal (MySQL family only; null elsewhere and for
   * any other error): the node is outside the Primary Component or not
   * ready, or a write set broke the cluster's limits.
   */
  clusterFault(err: unknown): ClusterFault | null;
  /**
   * Null when the server can take work; else (a Galera node outside the
   * Primary Component, or still joining: wsrep_ready OFF) its name and wsrep
   * state in a few words. Such a node still answers SELECT 1 and
   * information_schema, and refuses every table.
   */
  unreadyNode?(db: Knex): Promise<string | null>;
  /**
   * Copying inside one server or cluster (MySQL family only): the target's
   * connection reads the source's tables and the server hashes both sides.
   */
  readonly serverCopy?: ServerCopy;
  /** Moving rows as the engine's own COPY text, source to target, without parsing them (PostgreSQL). */
  readonly streamCopy?: StreamCopy;
  /** A Galera node's write-set limits; null when the server is not one (and on other engines). */
  writeSetLimits?(db: Knex): Promise<WriteSetLimits | null>;
  /** A Galera node's name and wsrep state in a few words, for a cluster error's message ('' when unknown). */
  clusterNodeState?(db: Knex): Promise<string>;
  /** True when the server refused text its character set cannot hold (MySQL latin1, a non-UTF8 PostgreSQL). */
  isUnstorableText(err: unknown): boolean;
  /**
   * Where stored text cannot hold all of Unicode: MySQL tables or columns in
   * a non-UTF-8 character set (nova created its tables latin1), a
   * PostgreSQL database whose encoding is not UTF8. Never anything on SQLite.
   */
  nonUnicodeText(db: Knex): Promise<NonUnicodeText[]>;

  /** CREATE TABLE (with its constraints) followed by its CREATE INDEX statements. */
  createTableSql(table: TableDef): string[];
  createIndexSql(table: string, index: IndexDef): string;
  /**
   * Statements that build several indexes of one table: one ALTER TABLE on
   * MySQL (a single scan of the table), one CREATE INDEX each elsewhere.
   */
  createIndexesSql(table: string, indexes: readonly IndexDef[]): string[];
  dropIndexSql(table: string, index: string): string;
  /** Adds a nullable column, with a named foreign key when given. */
  addColumnSql(table: string, column: ColumnDef, foreignKey?: ForeignKeyDef): string[];
  /**
   * Adds the foreign key of a column that exists already: what a resumed
   * revision still owes after a stop between ADD COLUMN and ADD CONSTRAINT.
   * Needed only where DDL is not transactional; SQLite cannot do it.
   */
  addForeignKeySql(table: string, column: string, foreignKey: ForeignKeyDef): string;

  /**
   * Session settings under which a foreign key on a column added a moment
   * ago (every value NULL, so no row can break it) is added without
   * checking the rows, and the statements that restore the defaults: MySQL's
   * foreign_key_checks = 0, with which InnoDB adds the key in place instead
   * of copying the table (350k consumers: 3.8 s → 0.16 s). Nothing elsewhere.
   */
  readonly newColumnKeySession: { enter: readonly string[]; exit: readonly string[] };

  /**
   * Session settings for a bulk load of rows already known to be valid, and
   * the statements that restore the defaults afterwards (MySQL: buffer
   * unique secondary-index checks; nothing elsewhere).
   */
  readonly bulkLoadSession: { enter: readonly string[]; exit: readonly string[] };

  /** DROP TABLE; the caller orders the drops so that foreign keys allow them. */
  dropTableSql(table: string): string;
  /**
   * Moves the id generator of `table` past max(`column`) after rows were
   * inserted with explicit ids: setval on PostgreSQL; MySQL's AUTO_INCREMENT
   * and SQLite's rowid follow explicit ids by themselves.
   */
  advanceSequence(db: Knex, table: string, column: string): Promise<void>;
  /**
   * Gives the planner statistics of `tables` after a bulk load, so that the
   * first queries on them (the online data migrations', the API's) are
   * planned on what they hold: VACUUM (ANALYZE) on PostgreSQL, whose planner
   * otherwise takes a table it never analysed (autovacuum off, or not yet
   * round) as a few pages and scans it whole for every look-up by index.
   * InnoDB recalculates its persistent statistics by itself after such a
   * change, and SQLite's planner trusts its indexes without any: nothing there.
   */
  refreshStatistics(db: Knex, tables: readonly string[]): Promise<void>;

  /** Base tables of the connected database/schema. */
  listTables(db: Knex): Promise<string[]>;
  /** A normalised description of every table, for comparisons and checks. */
  introspect(db: Knex): Promise<SchemaSnapshot>;

  /**
   * Runs `work` while holding the schema lock, on the single connection of
   * `db`. With transactional DDL, `work` runs inside one transaction that is
   * rolled back if it throws. On a Galera cluster the lock holds across
   * every node, and `notice` hears of a wait or a takeover.
   */
  withSchemaLock<T>(
    db: Knex,
    lockName: string,
    timeoutSeconds: number,
    work: () => Promise<T>,
    notice?: (line: string) => void,
  ): Promise<T>;

  /**
   * Starts a read-only transaction that sees one consistent snapshot of every
   * table, without locking writers out (never LOCK TABLES: Galera refuses it).
   * `db` must have exactly one connection.
   */
  beginSnapshot(db: Knex): Promise<void>;
  /** Ends the snapshot transaction. */
  endSnapshot(db: Knex): Promise<void>;
  /**
   * Other connections reading inside the open snapshot of `beginSnapshot`,
   * as pg_dump --jobs does (PostgreSQL's exported snapshots), so that the
   * copy's writers each read on a connection of their own. Absent where a
   * snapshot cannot be shared (MySQL/MariaDB, SQLite): every read then
   * queues on the one snapshot connection.
   */
  sharedSnapshot?: {
    /** The open snapshot's name, on the snapshot connection. */
    export(db: Knex): Promise<string>;
    /** Starts a read-only transaction on `db` (one connection) inside snapshot `name`. */
    join(db: Knex, name: string): Promise<void>;
  };
  /**
   * One query, computed by the server, returning `n` (the row count) and `d`
   * (a sum of a 60-bit hash of every row's `columns`, in any row order): any
   * insert, delete or update of those columns changes it. Compared only with
   * itself on the same server (the copy's snapshot against the live table),
   * never across engines.
   */
  tableDigestSql(table: string, columns: readonly string[]): string;
  /**
   * An aggregate that packs the integer expressions `columns` of every row
   * into one text value: a row's values joined by ',', rows by ';' (NULL
   * when there are no rows). The values must never be NULL. One row on the
   * wire instead of thousands is what makes large id sets cheap to read
   * (Access.integers).
   */
  packIntegersSql(columns: readonly string[]): string;
  /**
   * As packIntegersSql, for text expressions (which must never hold ',' or
   * ';': Access.packedText checks every row's fields); NULL is written empty.
   */
  packTextSql(columns: readonly string[]): string;
  /**
   * A float expression as text that parses back to the very same double,
   * or null where the engine has no such form (then floats are read as
   * rows): PostgreSQL's float8 output is the shortest exact one.
   */
  exactFloatTextSql(expr: string): string | null;
  /**
   * `column` is one of `count` values bound as parameters: `IN (?, …)`, or
   * on PostgreSQL one array parameter (`= ANY(?)`) whatever the count (bind
   * it with idListBindings).
   */
  inIdListSql(column: string, count: number): string;
  /** The bindings inIdListSql's condition takes for `ids`. */
  idListBindings(ids: readonly number[]): unknown[];
  /** Ids inIdListSql binds at most in one statement (Infinity: any number). */
  readonly maxIdList: number;
  /** Most bind parameters one statement may carry. */
  readonly maxBindParameters: number;
  /**
   * Writers that can usefully insert into one database at once: SQLite
   * serialises every writer on the file's lock, so 1 there.
   */
  readonly maxConcurrentWriters: number;
  /**
   * Writes rows (values in `columns` order) as one statement that commits on
   * its own, by the engine's fastest path: multi-row INSERTs under the bind
   * limit on MySQL and SQLite, COPY FROM STDIN on PostgreSQL.
   */
  insertRows(db: Knex, table: string, columns: readonly string[], rows: unknown[][]): Promise<void>;
  /**
   * Groups of `values` that a unique index on a VARCHAR(length) column of a
   * new table in `db` would treat as equal (case- or accent-insensitive
   * collations), each group sorted. Binary collations only group exact duplicates.
   */
  collidingValues(db: Knex, values: readonly string[], length: number): Promise<string[][]>;
  /**
   * The character set text takes in `table`.`column` of `db` (the column's
   * when the table exists, else the database's default), when it cannot hold
   * every character: MySQL's latin1 or 3-byte utf8. Null when it holds all.
   */
  narrowCharset(db: Knex, table: string, column: string): Promise<string | null>;
  /** Those of `values` that text in `charset` cannot hold (they would be refused or garbled). */
  unstorableValues(db: Knex, charset: string, values: readonly string[]): Promise<string[]>;
  /** Fractional-second digits a DATETIME column keeps (MySQL DATETIME: 0). */
  readonly timestampFractionDigits: number;
}

/** `INSERT … VALUES (…), (…)` in as few statements as the bind limit allows. */
export async function multiRowInsert(
  db: Knex,
  dialect: Pick<Dialect, 'quote' | 'maxBindParameters'>,
  table: string,
  columns: readonly string[],
  rows: unknown[][],
): Promise<void> {
  const q = dialect.quote;
  const head = `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES `;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const perStatement = Math.max(1, Math.floor(dialect.maxBindParameters / columns.length));
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    await db.raw(
      head + Array<string>(chunk.length).fill(tuple).join(', '),
      chunk.flat() as Knex.RawBinding[],
    );
  }
}

/** Groups exact duplicates: what a binary collation's unique index rejects. */
export function exactDuplicates(values: readonly string[]): string[][] {
  const seen = new Map<string, number>();
  for (const v of values) seen.set(v, (seen.get(v) ?? 0) + 1);
  return [...seen.entries()].filter(([, n]) => n > 1).map(([v, n]) => Array<string>(n).fill(v));
}

/** A table or column (or, when both are null, the whole database) whose character set is not Unicode. */
export interface NonUnicodeText {
  table: string | null;
  column: string | null;
  charset: string;
}

/** How an engine spells each column type (a varchar gets its length appended). */
export type TypeNames = Record<ColumnType['kind'], string>;

/** SQLAlchemy's generic type names, which each engine changes only where it must. */
export const GENERIC_TYPE_NAMES: TypeNames = {
  integer: 'INTEGER',
  float: 'FLOAT',
  datetime: 'DATETIME',
  varchar: 'VARCHAR',
  text: 'TEXT',
  boolean: 'BOOLEAN',
};

/**
 * One column of CREATE TABLE or ADD COLUMN: name, type, the engine's own
 * attributes (COLLATE, AUTO_INCREMENT), then DEFAULT and NOT NULL.
 */
export function renderColumn(
  c: ColumnDef,
  quote: (s: string) => string,
  types: TypeNames,
  attributes: (string | false | undefined)[] = [],
): string {
  const type =
    c.type.kind === 'varchar' ? `${types.varchar}(${c.type.length})` : types[c.type.kind];
  const parts = [quote(c.name), type, ...attributes];
  if (c.serverDefault !== undefined) parts.push(`DEFAULT ${c.serverDefault}`);
  if (!c.nullable) parts.push('NOT NULL');
  return parts.filter(Boolean).join(' ');
}

/** ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY (MySQL, PostgreSQL); unnamed keys get PostgreSQL's default name. */
export function renderAddForeignKey(
  table: string,
  column: string,
  fk: ForeignKeyDef,
  quote: (s: string) => string,
): string {
  const cols = (names: string[]) => names.map(quote).join(', ');
  return (
    `ALTER TABLE ${quote(table)} ADD CONSTRAINT ${quote(fk.name ?? `${table}_${column}_fkey`)} ` +
    `FOREIGN KEY(${cols(fk.columns)}) REFERENCES ${quote(fk.refTable)} (${cols(fk.refColumns)})`
  );
}

/** ALTER TABLE … ADD COLUMN, then ADD CONSTRAINT for its foreign key (MySQL, PostgreSQL). */
export function renderAddColumn(
  table: string,
  column: ColumnDef,
  fk: ForeignKeyDef | undefined,
  quote: (s: string) => string,
  columnSql: (c: ColumnDef) => string,
): string[] {
  const sql = [`ALTER TABLE ${quote(table)} ADD COLUMN ${columnSql(column)}`];
  if (fk) sql.push(renderAddForeignKey(table, column.name, fk, quote));
  return sql;
}

/**
 * Renders CREATE TABLE the way SQLAlchemy does: columns, then PRIMARY KEY,
 * foreign keys, unique constraints; unnamed foreign keys stay unnamed so the
 * engine names them as it did for placement's own migrations.
 */
export function renderCreateTable(
  table: TableDef,
  quote: (s: string) => string,
  columnSql: (c: ColumnDef) => string,
): string {
  const parts = table.columns.map((c) => columnSql(c));
  const cols = (names: string[]) => names.map(quote).join(', ');
  const pkName = table.primaryKeyName ? `CONSTRAINT ${quote(table.primaryKeyName)} ` : '';
  parts.push(`${pkName}PRIMARY KEY (${cols(table.primaryKey)})`);
  for (const fk of table.foreignKeys ?? []) {
    const named = fk.name ? `CONSTRAINT ${quote(fk.name)} ` : '';
    parts.push(
      `${named}FOREIGN KEY(${cols(fk.columns)}) REFERENCES ${quote(fk.refTable)} (${cols(fk.refColumns)})`,
    );
  }
  for (const u of table.uniques ?? []) {
    parts.push(`CONSTRAINT ${quote(u.name)} UNIQUE (${cols(u.columns)})`);
  }
  return `CREATE TABLE ${quote(table.name)} (\n\t${parts.join(',\n\t')}\n)`;
}

/** CREATE INDEX, identical on the three engines. */
export function renderCreateIndex(
  table: string,
  index: IndexDef,
  quote: (s: string) => string,
): string {
  return `CREATE INDEX ${quote(index.name)} ON ${quote(table)} (${index.columns.map(quote).join(', ')})`;
}

/**
 * The columns of a unique constraint named as placement names them
 * (`uniq_<table>0<column>[0<column>…]`), as oslo.db reads such names;
 * any other name is taken as one column.
 */
export function columnsOfConstraint(name: string): string[] {
  return name.startsWith('uniq_') ? name.slice('uniq_'.length).split('0').slice(1) : [name];
}

/** Extracts the `code` / `errno` that Node drivers put on their errors. */
/** `?, ?, …`: `count` bind placeholders. */
export const placeholderList = (count: number): string =>
  Array.from({ length: count }, () => '?').join(', ');

export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; errno?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.code === 'number') return String(e.code);
  }
  return undefined;
}

/** Network-level failures: the server was never reached. */
export const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ECONNRESET',
  'EPIPE',
  'ENOENT',
  'PROTOCOL_CONNECTION_LOST',
]);

// Node's certificate verification codes (X509_V_ERR_* without the prefix) that mean "not trusted".
const UNTRUSTED_CERT_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_REVOKED',
]);

/**
 * What a TLS failure while connecting was, the same on every driver: from
 * Node's error code, or from its message where the driver replaced the code
 * (mysql2's HANDSHAKE_SSL_ERROR). Null when `err` is no TLS failure.
 */
export function describeTlsFailure(
  err: unknown,
): { problem: 'untrusted' | 'hostname' | 'expired' | 'handshake'; reason: string } | null {
  const code = errorCode(err) ?? '';
  // Node ends some messages with ": " and an empty list ("… is not in the cert's list: ").
  const message = err instanceof Error ? err.message.replace(/[:\s]+$/, '') : '';
  if (
    code === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
    /does not match certificate's altnames/i.test(message)
  ) {
    return {
      problem: 'hostname',
      reason: `the server's certificate does not name the host connected to (${message})`,
    };
  }
  if (
    UNTRUSTED_CERT_CODES.has(code) ||
    /self[- ]signed certificate|unable to (get|verify) (local )?(issuer|the first)|certificate (signature failure|chain too long|revoked)|invalid CA/i.test(
      message,
    )
  ) {
    return {
      problem: 'untrusted',
      reason: `the server's certificate is not signed by a trusted CA (${message})`,
    };
  }
  if (
    code === 'CERT_HAS_EXPIRED' ||
    code === 'CERT_NOT_YET_VALID' ||
    /certificate (has expired|is not yet valid)/i.test(message)
  ) {
    return {
      problem: 'expired',
      reason: `the server's certificate is outside its validity period (${message})`,
    };
  }
  if (
    code === 'HANDSHAKE_SSL_ERROR' ||
    /^ERR_(SSL|TLS|OSSL)_/.test(code) ||
    /\bSSL routines\b/.test(message)
  ) {
    return { problem: 'handshake', reason: `the TLS handshake failed (${message || code})` };
  }
  return null;
}

/** The hint for a TLS failure, with the engine's own parameter names. */
export function tlsHint(
  problem: 'unsupported' | 'required' | 'untrusted' | 'hostname' | 'expired' | 'handshake',
  names: { ca: string; encryptOnly: string; chainOnly: string; off: string },
): string {
  switch (problem) {
    case 'unsupported':
      return `The server has TLS turned off: turn it on (a certificate and key in its configuration), or connect without TLS (${names.off}) where the network is trusted.`;
    case 'required':
      return `The server accepts only TLS connections: add ${names.ca}/path/to/ca.pem (the CA that signed its certificate) to the URL, or ${names.encryptOnly} to encrypt without verifying.`;
    case 'untrusted':
      return `Name the CA that signed the server's certificate with ${names.ca}/path/to/ca.pem; ${names.encryptOnly} encrypts without verifying it.`;
    case 'hostname':
      return `Connect by a host name the certificate holds (openssl x509 -noout -ext subjectAltName -in <cert> lists them), or check the chain only with ${names.chainOnly}.`;
    case 'expired':
      return "Renew the server's certificate, or check the clocks of this machine and the server.";
    case 'handshake':
      return 'Check that the server speaks TLS on this port, and the client certificate and key if the server asks for one.';
  }
}

/** Socket-level ends of an established connection, the same on every driver. */
export function describeLostSocket(code: string | undefined): string | null {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the connection was reset';
    case 'ETIMEDOUT':
      return 'the server stopped answering';
    default:
      return null;
  }
}

/** A short, stable description of a network failure. */
export function describeNetworkError(code: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'the connection was refused (is the server running and listening there?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return 'the host name does not resolve';
    case 'ETIMEDOUT':
      return 'the server did not answer in time';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host is unreachable';
    case 'ENOENT':
      return 'the socket file does not exist';
    case 'EADDRNOTAVAIL':
      return 'the local address it is to connect from (bind-address) is not an address of this host';
    default:
      return `the connection failed (${code})`;
  }
}

/**
 * Rows in the engine's own bulk text format (PostgreSQL's COPY), passed
 * from one server to another as bytes: no row is parsed in Node. `tap`
 * sees every chunk as it goes by (hashing).
 */
export interface StreamCopy {
  /**
   * Pipes `COPY (select) TO STDOUT` on `source` into `COPY table (columns)
   * FROM STDIN` on `target`, one transaction on the target; resolves with
   * the rows written. `select` has no parameters (COPY takes none).
   */
  pipe(
    source: Knex,
    select: string,
    target: Knex,
    into: { table: string; columns: readonly string[] },
    tap: (chunk: Buffer) => void,
  ): Promise<number>;
  /** Streams `COPY (select) TO STDOUT` on `conn` through `tap`; resolves with the rows read. */
  read(conn: Knex, select: string, tap: (chunk: Buffer) => void): Promise<number>;
  /**
   * Rows (values in column order) as COPY text lines, escaped as the
   * server's own COPY TO prints them: integers, text, NULL and ISO
   * timestamps come back byte for byte, so the text a writer loads and
   * hashes is the text the target's verification hashes.
   */
  encodeRows(rows: readonly (readonly unknown[])[]): string;
  /** Loads COPY text lines into `into` by one COPY FROM STDIN, which commits on its own. */
  load(
    conn: Knex,
    into: { table: string; columns: readonly string[] },
    text: string,
  ): Promise<void>;
}

/** What a copy inside one server needs of the engine (see mysql-server-copy.ts). */
export interface ServerCopy {
  /**
   * How the two connections share one server ("the same server", "the same
   * Galera cluster (uuid)"), proved by the server; null when they do not,
   * or it cannot be proved.
   */
  sharedServer(source: Knex, target: Knex): Promise<string | null>;
  /** The first of `tables` in database `schema` that `conn` may not SELECT from; null when it may read all. */
  unreadable(conn: Knex, schema: string, tables: readonly string[]): Promise<string | null>;
  /** `schema`.`table`, quoted. */
  qualified(schema: string, table: string): string;
  /**
   * A statement giving n (the rows), a and b (the checksum's halves, as
   * text) over the canonical text of `values` (SQL expressions, one per
   * column) of each row; `{from}` is where its FROM … WHERE … goes.
   */
  checksumSelect(values: readonly string[]): string;
}
