/**
 * Engine-neutral descriptions of tables, written the way placement's alembic
 * revisions declare them. The dialect layer turns them into DDL, so a
 * revision never contains SQL text for one engine.
 */
export type ColumnType =
  | { kind: 'integer' }
  | { kind: 'float' }
  | { kind: 'datetime' }
  | { kind: 'varchar'; length: number }
  /** Unbounded text (nova's Text columns; placement has none). */
  | { kind: 'text' }
  /** SQLAlchemy Boolean without a CHECK constraint (nova's other tables; placement has none). */
  | { kind: 'boolean' };

export interface ColumnDef {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** An integer primary key that the database numbers (AUTO_INCREMENT, SERIAL, SQLite rowid). */
  autoincrement?: boolean;
  /** A literal server default, as SQL text (e.g. '0'). */
  serverDefault?: string;
  /**
   * MySQL only, like SQLAlchemy's `collation=` on a MySQL column: nova made
   * its name columns `utf8_bin` inside latin1 tables. Other engines ignore it.
   */
  collation?: string;
}

export interface UniqueDef {
  name: string;
  columns: string[];
}

export interface IndexDef {
  name: string;
  columns: string[];
}

export interface ForeignKeyDef {
  /** Unnamed constraints get the engine's generated name, as SQLAlchemy leaves them. */
  name?: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
}

export interface TableDef {
  name: string;
  columns: ColumnDef[];
  primaryKey: string[];
  /** Only where the original names it (alembic_version_pkc); otherwise the engine's name. */
  primaryKeyName?: string;
  uniques?: UniqueDef[];
  foreignKeys?: ForeignKeyDef[];
  /** Indexes created after the table, in this order. */
  indexes?: IndexDef[];
  /**
   * MySQL only, like SQLAlchemy's `mysql_charset`: the table's default
   * character set (nova's placement tables are latin1). Placement's own
   * tables leave it unset, so they take the database default.
   */
  charset?: string;
}

export const integer = (
  name: string,
  nullable = true,
  extra: Partial<ColumnDef> = {},
): ColumnDef => ({
  name,
  type: { kind: 'integer' },
  nullable,
  ...extra,
});

export const varchar = (name: string, length: number, nullable = true): ColumnDef => ({
  name,
  type: { kind: 'varchar', length },
  nullable,
});

export const float = (name: string, nullable = true): ColumnDef => ({
  name,
  type: { kind: 'float' },
  nullable,
});

/** The created_at/updated_at pair that every placement table starts with. */
export const timestamps = (): ColumnDef[] => [
  { name: 'created_at', type: { kind: 'datetime' }, nullable: true },
  { name: 'updated_at', type: { kind: 'datetime' }, nullable: true },
];

/** The usual surrogate key: INTEGER NOT NULL, numbered by the database. */
export const idColumn = (): ColumnDef => integer('id', false, { autoincrement: true });

/**
 * What introspection reports about a live schema, normalised so that two
 * databases on the same engine can be compared with a deep equality.
 */
export interface SchemaSnapshot {
  tables: Record<string, TableSnapshot>;
}

export interface TableSnapshot {
  columns: {
    name: string;
    type: string;
    nullable: boolean;
    default: string | null;
    autoincrement: boolean;
  }[];
  primaryKey: { name: string | null; columns: string[] };
  uniques: { name: string; columns: string[] }[];
  indexes: { name: string; columns: string[]; unique: boolean }[];
  foreignKeys: { name: string | null; columns: string[]; refTable: string; refColumns: string[] }[];
  /** MySQL only: the table's default collation (nova's tables were latin1). */
  collation?: string;
}
