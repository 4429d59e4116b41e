import { createHash } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readSync,
  statSync,
} from 'node:fs';
import { isUtf8 } from 'node:buffer';
import type BetterSqlite3 from 'better-sqlite3';
import { dirname, resolve } from 'node:path';
import type { Knex } from 'knex';
import { ConnectionError, LockedError } from '../../errors/errors.js';
import type { ColumnDef, ForeignKeyDef, SchemaSnapshot, TableDef } from '../../schema/model.js';
import type { ConnectionSpec } from '../url.js';
import {
  errorCode,
  GENERIC_TYPE_NAMES,
  exactDuplicates,
  multiRowInsert,
  placeholderList,
  renderColumn,
  renderCreateIndex,
  renderCreateTable,
  type Dialect,
  type TypeNames,
  type NonUnicodeText,
  type PoolOptions,
} from './dialect.js';

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * tableDigestSql's aggregate: SQLite has no hash function, so the connection
 * brings one. Each value is hashed as its type, length and text (NULL as one
 * NUL), which is unambiguous; the sum of the first 60 bits is exact as a BigInt.
 */
function registerDigest(conn: BetterSqlite3.Database): void {
  conn.aggregate('pu_digest', {
    start: () => 0n,
    step: (total: bigint, ...values: unknown[]) => {
      let line = '';
      for (const v of values) {
        if (v === null || v === undefined) line += '\0';
        else {
          const text = Buffer.isBuffer(v) ? v.toString('hex') : String(v);
          line += `${typeof v}${text.length}:${text}`;
        }
      }
      return total + BigInt(`0x${createHash('md5').update(line).digest('hex').slice(0, 15)}`);
    },
    result: (total: bigint) => total.toString(),
    varargs: true,
    deterministic: true,
  });
}

const TYPES: TypeNames = GENERIC_TYPE_NAMES;

/** Why a directory cannot take a new file ("read-only filesystem" …), or '' when it can. */
function unwritableBecause(dir: string): string {
  try {
    accessSync(dir, constants.W_OK);
    return '';
  } catch (err) {
    const code = (err as { code?: string }).code;
    return code === 'EROFS'
      ? 'a read-only filesystem'
      : code === 'EACCES'
        ? 'permission denied'
        : String(code);
  }
}

/** What a file that is not a database holds, as far as its first bytes tell: ": it holds 120 bytes of text". */
function describeFile(path: string): string {
  try {
    const { size } = statSync(path);
    const head = Buffer.alloc(Math.min(size, 512));
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    // UTF-8 without NUL bytes, allowing a character cut at the end of the sample.
    const text =
      head.length > 0 &&
      !head.includes(0) &&
      [0, 1, 2, 3].some((cut) => isUtf8(head.subarray(0, head.length - cut)));
    return `: it holds ${size} bytes${text ? ' of text' : ''}`;
  } catch {
    return '';
  }
}

const columnSql = (c: ColumnDef) => renderColumn(c, quote, TYPES);

/** Names of `CONSTRAINT name UNIQUE (cols)` / `... FOREIGN KEY (cols)` / inline `CONSTRAINT name REFERENCES`, keyed by column list. */
function constraintNames(createSql: string, kind: 'UNIQUE' | 'FOREIGN KEY'): Map<string, string> {
  const names = new Map<string, string>();
  const ident = '(?:"((?:[^"]|"")+)"|`([^`]+)`|(\\w+))';
  const tableLevel = new RegExp(`CONSTRAINT\\s+${ident}\\s+${kind}\\s*\\(([^)]*)\\)`, 'gi');
  for (const m of createSql.matchAll(tableLevel)) {
    const name = (m[1] ?? m[2] ?? m[3] ?? '').replace(/""/g, '"');
    const cols = (m[4] ?? '')
      .split(',')
      .map((c) => c.trim().replace(/^["`]|["`]$/g, ''))
      .join(',');
    names.set(cols, name);
  }
  if (kind === 'FOREIGN KEY') {
    const inline = new RegExp(
      `(?:^|[(,])\\s*${ident}\\s+\\w+[^,]*?CONSTRAINT\\s+${ident}\\s+REFERENCES`,
      'gi',
    );
    for (const m of createSql.matchAll(inline)) {
      const col = m[1] ?? m[2] ?? m[3] ?? '';
      const name = m[4] ?? m[5] ?? m[6] ?? '';
      names.set(col, name);
    }
  }
  return names;
}

/** SQLite, through better-sqlite3: the embedded default, no server needed. */
export const sqliteDialect: Dialect = {
  engine: 'sqlite',
  displayName: 'SQLite',
  supportsTransactionalDdl: true,
  supportsReturning: false,

  knexConfig(spec: ConnectionSpec, options: PoolOptions): Knex.Config {
    const filename = spec.database ?? ':memory:';
    if (options.mustExist && filename !== ':memory:' && !existsSync(filename)) {
      // knex does not pass better-sqlite3's fileMustExist through; check here.
      throw Object.assign(new Error(`unable to open database file: ${filename} does not exist`), {
        code: 'SQLITE_CANTOPEN',
      });
    }
    return {
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate: (
          conn: BetterSqlite3.Database,
          done: (err: Error | null, c: unknown) => void,
        ) => {
          try {
            conn.pragma(`busy_timeout = ${options.connectTimeoutSeconds * 1000}`);
            conn.pragma('foreign_keys = OFF');
            registerDigest(conn);
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    };
  },

  classifyConnectError(err: unknown, spec: ConnectionSpec): ConnectionError {
    const file = spec.database ?? '';
    const abs = file === ':memory:' ? file : resolve(file);
    const code = errorCode(err) ?? '';
    const message = err instanceof Error ? err.message : String(err);
    if (
      code === 'SQLITE_CANTOPEN' ||
      /unable to open|does not exist|directory does not exist/i.test(message)
    ) {
      const unwritable =
        existsSync(dirname(abs)) && !existsSync(abs) ? unwritableBecause(dirname(abs)) : '';
      if (unwritable) {
        return new ConnectionError(
          'permission',
          `Cannot create the SQLite database file ${abs} (from ${spec.origin}): its directory is not writable (${unwritable}).`,
          'Give the path of a directory this user can write to, or make this one writable (a read-only mount cannot hold the database).',
          err,
        );
      }
      if (!existsSync(abs)) {
        const dirMissing = !existsSync(dirname(abs));
        return new ConnectionError(
          'database_missing',
          `The SQLite database file ${abs} does not exist${dirMissing ? ' (nor does its directory)' : ''} (from ${spec.origin}).`,
          'Check the path: sqlite:///relative/path is relative to the current directory, sqlite:////absolute/path (four slashes) is absolute.',
          err,
          { path: abs },
        );
      }
      return new ConnectionError(
        'permission',
        `Cannot open the SQLite database file ${abs}: permission denied (from ${spec.origin}).`,
        'Run as a user that can read and write the file and its directory.',
        err,
      );
    }
    if (code === 'SQLITE_NOTADB') {
      // Reported at connect: openDatabase's first query reads the file's header.
      return new ConnectionError(
        'not_a_database',
        `The file ${abs} (from ${spec.origin}) is not a SQLite database${describeFile(abs)}. Nothing was written to it.`,
        'Check the path in the connection URL: it must name a SQLite database file, or a file that does not exist yet for the commands that create one. An encrypted (SQLCipher) database cannot be read either.',
        err,
      );
    }
    if (
      code === 'SQLITE_READONLY' ||
      code === 'SQLITE_PERM' ||
      /readonly|permission/i.test(message)
    ) {
      return new ConnectionError(
        'permission',
        `Cannot write the SQLite database file ${abs}: permission denied (from ${spec.origin}).`,
        'Run as a user that can read and write the file and its directory.',
        err,
      );
    }
    return new ConnectionError(
      'unknown',
      `Cannot open the SQLite database ${abs}: ${message}`,
      undefined,
      err,
    );
  },

  isPermissionError: (err: unknown) =>
    ['SQLITE_READONLY', 'SQLITE_PERM'].includes(errorCode(err) ?? ''),

  isUniqueViolation: (err: unknown) =>
    ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY'].includes(errorCode(err) ?? ''),

  isForeignKeyViolation: (err: unknown) => errorCode(err) === 'SQLITE_CONSTRAINT_FOREIGNKEY',

  uniqueViolationColumns(err: unknown): string[] {
    const message = String((err as { message?: unknown }).message ?? '');
    const m = /UNIQUE constraint failed: (.+)$/.exec(message);
    return m ? m[1]!.split(', ').map((c) => c.slice(c.indexOf('.') + 1)) : [];
  },

  placementDriver: {
    paramStyle: 'qmark',
    insertReturnsId: false,
    bindsProcessed: true,
    exception(err: unknown) {
      const e = err as { code?: unknown; message?: unknown };
      if (typeof e.code !== 'string' || !e.code.startsWith('SQLITE_')) return null;
      const message = String(e.message ?? '').replace(/^[\s\S]* - (?=[^-]*$)/, '');
      const dbapiClass = e.code.startsWith('SQLITE_CONSTRAINT')
        ? 'IntegrityError'
        : 'OperationalError';
      return { className: `sqlite3.${dbapiClass}`, dbapiClass, message };
    },
  },

  withExplicitZeroIds: <T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>) =>
    db.transaction(work),

  rows<T>(result: unknown): T[] {
    return (Array.isArray(result) ? result : []) as T[];
  },

  quote,

  affectedRows: (result: unknown) => Number((result as { changes?: number })?.changes ?? 0),

  // The busy timeout already waited; a deferred transaction that could not
  // upgrade its lock gets SQLITE_BUSY at once and must start over.
  // SQLite stores any text.
  isUnstorableText: () => false,
  isTransientConflict: (err: unknown) => /^SQLITE_(BUSY|LOCKED)/.test(errorCode(err) ?? ''),
  clusterFault: () => null,

  // SQLite text is always UTF-8 or UTF-16.
  nonUnicodeText: async (): Promise<NonUnicodeText[]> => [],

  createTableSql(table: TableDef): string[] {
    return [
      renderCreateTable(table, quote, columnSql),
      ...(table.indexes ?? []).map((i) => renderCreateIndex(table.name, i, quote)),
    ];
  },

  createIndexSql: (table, index) => renderCreateIndex(table, index, quote),
  createIndexesSql: (table, indexes) => indexes.map((i) => renderCreateIndex(table, i, quote)),

  dropIndexSql: (_table, index) => `DROP INDEX ${quote(index)}`,

  addColumnSql(table: string, column: ColumnDef, fk?: ForeignKeyDef): string[] {
    // SQLite cannot ADD CONSTRAINT; a column-level named REFERENCES gives the
    // same foreign key that alembic's batch mode builds by copying the table.
    let sql = `ALTER TABLE ${quote(table)} ADD COLUMN ${columnSql(column)}`;
    if (fk) {
      sql += `${fk.name ? ` CONSTRAINT ${quote(fk.name)}` : ''} REFERENCES ${quote(fk.refTable)} (${fk.refColumns.map(quote).join(', ')})`;
    }
    return [sql];
  },

  addForeignKeySql(table) {
    throw new Error(
      `SQLite cannot add a foreign key to the existing table ${table}; its DDL is transactional, so no revision is ever left half-applied.`,
    );
  },

  // A file has no session to lose.
  connectionLost: () => null,

  storageFault(err) {
    const code = String((err as { code?: unknown } | null)?.code ?? '');
    if (code === 'SQLITE_FULL') return 'the disk (or filesystem) holding the database file is full';
    if (code === 'SQLITE_READONLY_DBMOVED')
      return 'the database file was deleted or moved while in use';
    if (code.startsWith('SQLITE_READONLY'))
      return 'the database file or its directory is not writable';
    if (code === 'SQLITE_CANTOPEN')
      return 'the database file can no longer be opened (deleted, or its directory not writable)';
    if (code.startsWith('SQLITE_IOERR')) return `the filesystem failed a read or write (${code})`;
    return null;
  },

  newColumnKeySession: { enter: [], exit: [] },

  bulkLoadSession: { enter: [], exit: [] },

  dropTableSql: (table) => `DROP TABLE ${quote(table)}`,

  async refreshStatistics(): Promise<void> {
    // Nothing to do (see Dialect.refreshStatistics).
  },

  async advanceSequence(): Promise<void> {
    // A rowid alias continues from max(rowid) by itself.
  },

  async listTables(db: Knex): Promise<string[]> {
    const rows = this.rows<{ name: string }>(
      await db.raw(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
      ),
    );
    return rows.map((r) => r.name);
  },

  async introspect(db: Knex): Promise<SchemaSnapshot> {
    const q = async <T>(sql: string, b: unknown[] = []) =>
      this.rows<T>(await db.raw(sql, b as Knex.RawBinding[]));
    const tables = await q<{ name: string; sql: string }>(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    );
    const snapshot: SchemaSnapshot = { tables: {} };
    for (const t of tables) {
      const cols = await q<{
        name: string;
        type: string;
        notnull: number;
        dflt_value: string | null;
        pk: number;
      }>('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_xinfo(?) ORDER BY cid', [
        t.name,
      ]);
      const pkCols = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      const rowidAlias = pkCols.length === 1 && pkCols[0]!.type.toUpperCase() === 'INTEGER';
      const list = await q<{ name: string; unique: number; origin: string }>(
        'SELECT name, "unique", origin FROM pragma_index_list(?) ORDER BY name',
        [t.name],
      );
      const uniqueNames = constraintNames(t.sql, 'UNIQUE');
      const fkNames = constraintNames(t.sql, 'FOREIGN KEY');
      const uniques: { name: string; columns: string[] }[] = [];
      const indexes: { name: string; columns: string[]; unique: boolean }[] = [];
      for (const idx of list) {
        if (idx.origin === 'pk') continue;
        const info = await q<{ name: string }>(
          'SELECT name FROM pragma_index_info(?) ORDER BY seqno',
          [idx.name],
        );
        const columns = info.map((i) => i.name);
        if (idx.origin === 'u')
          uniques.push({ name: uniqueNames.get(columns.join(',')) ?? idx.name, columns });
        else indexes.push({ name: idx.name, columns, unique: idx.unique === 1 });
      }
      const fkRows = await q<{ id: number; seq: number; table: string; from: string; to: string }>(
        'SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq',
        [t.name],
      );
      const fks = new Map<number, { columns: string[]; refTable: string; refColumns: string[] }>();
      for (const f of fkRows) {
        const entry = fks.get(f.id) ?? { columns: [], refTable: f.table, refColumns: [] };
        entry.columns.push(f.from);
        entry.refColumns.push(f.to);
        fks.set(f.id, entry);
      }
      snapshot.tables[t.name] = {
        columns: cols.map((c) => ({
          name: c.name,
          type: c.type.toLowerCase(),
          nullable: c.notnull === 0,
          default: c.dflt_value,
          autoincrement: rowidAlias && c.pk === 1,
        })),
        primaryKey: { name: null, columns: pkCols.map((c) => c.name) },
        uniques: uniques.sort((a, b) => a.name.localeCompare(b.name)),
        indexes,
        foreignKeys: [...fks.values()]
          .map((f) => ({ name: fkNames.get(f.columns.join(',')) ?? null, ...f }))
          .sort((a, b) => a.columns.join().localeCompare(b.columns.join())),
      };
    }
    return snapshot;
  },

  async withSchemaLock<T>(
    db: Knex,
    _lockName: string,
    timeoutSeconds: number,
    work: () => Promise<T>,
  ): Promise<T> {
    // BEGIN IMMEDIATE takes SQLite's single write lock for the whole run;
    // a second run waits busy_timeout for it, then sees the finished schema.
    try {
      await db.raw('BEGIN IMMEDIATE');
    } catch (err) {
      if (errorCode(err) === 'SQLITE_BUSY') {
        throw new LockedError(
          `Another process holds the SQLite database's write lock (waited ${timeoutSeconds} s).`,
          'Wait for the other run to finish, or raise --lock-timeout.',
        );
      }
      throw err;
    }
    try {
      const result = await work();
      await db.raw('COMMIT');
      return result;
    } catch (err) {
      await db.raw('ROLLBACK').catch(() => undefined);
      throw err;
    }
  },

  async beginSnapshot(db: Knex): Promise<void> {
    // A deferred transaction takes its read lock at the first read; read now,
    // so every later read sees the same database.
    await db.raw('BEGIN');
    await db.raw('SELECT COUNT(*) FROM sqlite_master');
  },

  async endSnapshot(db: Knex): Promise<void> {
    await db.raw('COMMIT');
  },

  packIntegersSql(columns) {
    return `group_concat(${columns.join(" || ',' || ")}, ';')`;
  },
  packTextSql(columns) {
    return `group_concat(concat_ws(',', ${columns.map((c) => `COALESCE(${c}, '')`).join(', ')}), ';')`;
  },
  // SQLite writes a REAL with 15 significant digits: not always the same double.
  exactFloatTextSql: () => null,
  inIdListSql: (column, count) => `${column} IN (${placeholderList(count)})`,
  idListBindings: (ids) => [...ids],
  maxIdList: 2000,
  tableDigestSql(table, columns) {
    // pu_digest is the aggregate every connection registers (afterCreate).
    return `SELECT COUNT(*) AS n, pu_digest(${columns.map(quote).join(', ')}) AS d FROM ${quote(table)}`;
  },

  maxBindParameters: 32766,
  maxConcurrentWriters: 1,

  insertRows(db, table, columns, rows) {
    return multiRowInsert(db, this, table, columns, rows);
  },

  async collidingValues(_db: Knex, values: readonly string[]): Promise<string[][]> {
    // BINARY collation, as placement creates its tables on SQLite.
    return exactDuplicates(values);
  },

  async narrowCharset(): Promise<string | null> {
    // SQLite stores text as UTF-8.
    return null;
  },

  async unstorableValues(): Promise<string[]> {
    return [];
  },

  timestampFractionDigits: 6,
};
