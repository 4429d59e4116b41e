/**
 * Builds placement databases in the states that old deployments leave
 * behind, directly with knex on a schema created by syncSchema at the
 * revision a condition needs (b4ed3a175331 still allows NULL roots and
 * allocations without consumers).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Database } from '../../src/db/connect.js';
import type { Engine } from '../../src/db/url.js';
import { syncSchema } from '../../src/schema/migrator.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export interface PlacementTestDatabase extends TestDatabase {
  db: Database;
  knex: Knex;
  /** Closes the connection and drops the database. */
  destroy(): Promise<void>;
}

/** A fresh database with placement's schema at `revision`. */
export async function placementDatabase(
  engine: Engine,
  prefix: string,
  revision = 'b4ed3a175331',
  options: { charset?: string } = {},
): Promise<PlacementTestDatabase> {
  const test = await createTestDatabase(engine, prefix, options);
  const db = await test.open();
  await syncSchema(db, { target: revision });
  return {
    ...test,
    db,
    knex: db.knex,
    destroy: async () => {
      await db.close();
      await test.drop();
    },
  };
}

/** Inserts a row and returns the id the database gave it (PostgreSQL needs RETURNING). */
export async function insertId(
  knex: Knex,
  table: string,
  row: Record<string, unknown>,
): Promise<number> {
  const result = (
    knex.client.config.client === 'pg'
      ? await knex(table).insert(row, ['id'])
      : await knex(table).insert(row)
  ) as unknown[];
  const first = result[0] as number | { id: number };
  return Number(typeof first === 'object' ? first.id : first);
}

/** A resource provider; root defaults to itself unless `root: null` is given. */
export async function addProvider(
  knex: Knex,
  options: { name?: string; uuid?: string; parent?: number; root?: number | null } = {},
): Promise<number> {
  const uuid = options.uuid ?? randomUUID();
  const id = await insertId(knex, 'resource_providers', {
    uuid,
    name: options.name ?? `rp-${uuid.slice(0, 8)}`,
    generation: 1,
    parent_provider_id: options.parent ?? null,
    root_provider_id: options.root === undefined ? null : options.root,
  });
  if (options.root === undefined) {
    await knex('resource_providers')
      .where({ id })
      .update({ root_provider_id: options.parent ?? id });
  }
  return id;
}

/** Inserts many rows in chunks (a few thousand at most in tests). */
export async function insertMany(
  knex: Knex,
  table: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await knex(table).insert(rows.slice(i, i + 200));
}

/** Rows of `SELECT COUNT(*)` as a number on every engine. */
export async function count(query: Knex.QueryBuilder): Promise<number> {
  const row = (await query.count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/**
 * Makes later inserts keep explicit ids of 0 on MySQL, as placement's own
 * resource class sync does (NO_AUTO_VALUE_ON_ZERO), on a pinned connection.
 */
export async function insertWithExplicitIds(
  knex: Knex,
  table: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  await knex.transaction(async (trx) => {
    if (knex.client.config.client === 'mysql2') {
      await trx.raw("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')");
    }
    for (let i = 0; i < rows.length; i += 200) await trx(table).insert(rows.slice(i, i + 200));
  });
}
