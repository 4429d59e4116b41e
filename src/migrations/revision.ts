import type { Knex } from 'knex';
import type { Dialect } from '../db/dialect/dialect.js';
import type { ColumnDef, ForeignKeyDef, IndexDef, TableDef } from '../schema/model.js';

/**
 * What a revision may do to the database. Revisions describe changes as
 * data; the dialect renders them, so no revision holds engine-specific SQL.
 */
export interface SchemaOps {
  /** The connection the revision runs on (inside the schema lock). */
  readonly db: Knex;
  readonly dialect: Dialect;
  createTable(table: TableDef): Promise<void>;
  createIndex(table: string, index: IndexDef): Promise<void>;
  dropIndex(table: string, index: string): Promise<void>;
  addColumn(table: string, column: ColumnDef, foreignKey?: ForeignKeyDef): Promise<void>;
}

/** One placement alembic revision, with the same id placement uses. */
export interface Revision {
  readonly id: string;
  readonly down: string | null;
  /** The first placement release that ships this revision. */
  readonly since: string;
  readonly description: string;
  upgrade(ops: SchemaOps): Promise<void>;
}
