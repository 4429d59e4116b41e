import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { utcTimestamp } from '../db/timestamps.js';
import { inRetriedTransaction, retryOnConflict } from '../db/transaction.js';
import type { BatchResult, OnlineDataMigration } from './types.js';

/** Rows per INSERT statement, well under every engine's limit on bound parameters. */
const INSERT_CHUNK = 500;
/** Distinct consumer ids read per look ahead; doubled over stretches that need nothing. */
const FIRST_WINDOW = 200;
const MAX_WINDOW = 10_000;

/**
 * The next `window` distinct allocations.consumer_id after `cursor`, in
 * index order, each with the id of its consumers row (null when missing).
 * Both halves are index lookups on every engine, whatever the planner
 * thinks of the tables' sizes: the window is a bounded range of the
 * allocations_consumer_id_idx, the consumer a probe of uniq_consumers0uuid,
 * and the database's own collation decides which uuids match.
 */
async function consumersAfter(
  database: Database,
  cursor: string | null,
  window: number,
  upTo: string | null = null,
): Promise<{ uuid: string; consumer: number | null }[]> {
  const { knex } = database;
  const ids = knex('allocations')
    .select('consumer_id')
    .groupBy('consumer_id')
    .orderBy('consumer_id')
    .limit(window);
  if (cursor !== null) ids.where('consumer_id', '>', cursor);
  if (upTo !== null) ids.where('consumer_id', '<=', upTo);
  return (await knex
    .from(ids.as('w'))
    .select(
      { uuid: 'w.consumer_id' },
      knex('consumers as c')
        .select('c.id')
        .whereRaw('?? = ??', ['c.uuid', 'w.consumer_id'])
        .as('consumer'),
    )
    .orderBy('w.consumer_id')) as { uuid: string; consumer: number | null }[];
}

/**
 * The id of the projects/users row with this external id, created if
 * missing. Inserting skips a row another run inserted at the same moment,
 * and the id is read back outside any transaction, so both runs see it.
 */
async function ensureOwner(
  database: Database,
  table: 'projects' | 'users',
  externalId: string,
): Promise<number> {
  const find = async () =>
    (await database.knex(table).where({ external_id: externalId }).first('id')) as
      { id: number | string } | undefined;
  let row = await find();
  if (!row) {
    await retryOnConflict(database, async () => {
      await database
        .knex(table)
        .insert({ external_id: externalId, created_at: utcTimestamp() })
        .onConflict('external_id')
        .ignore();
    });
    row = await find();
  }
  if (!row) throw new Error(`could not create the ${table} row with external_id ${externalId}`);
  return Number(row.id);
}

/**
 * Inserts consumers rows, skipping any a concurrent run inserted first, and
 * returns how many it inserted. A batch that fits one statement commits on
 * its own; a larger one (a big --max-count) is one transaction.
 */
async function insertConsumers(
  database: Database,
  rows: { uuid: string; project_id: number; user_id: number; created_at: string }[],
): Promise<number> {
  const insert = async (db: Knex, chunk: typeof rows) => {
    const { sql, bindings } = db('consumers').insert(chunk).onConflict('uuid').ignore().toSQL();
    return database.dialect.affectedRows(await db.raw(sql, bindings));
  };
  if (rows.length <= INSERT_CHUNK) {
    return retryOnConflict(database, () => insert(database.knex, rows));
  }
  return inRetriedTransaction(database, async (trx) => {
    let inserted = 0;
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      inserted += await insert(trx, rows.slice(i, i + INSERT_CHUNK));
    }
    return inserted;
  });
}

/**
 * Up to `batchSize` consumer ids that hold allocations but have no consumers
 * row: those after `from` in index order, then, if the end comes first, those
 * from the start up to `from`. So a batch takes as many rows as
 * placement-manage's single INSERT … SELECT … LIMIT does (the batch size, or
 * all that are left) without rescanning the stretch already fixed. Returns
 * them and the cursor the next batch starts from.
 */
async function nextMissing(
  database: Database,
  from: string | null,
  batchSize: number,
): Promise<{ uuids: string[]; cursor: string | null }> {
  const uuids: string[] = [];
  let after = from;
  let upTo: string | null = null;
  let window = Math.max(batchSize, FIRST_WINDOW);
  for (;;) {
    const rows = await consumersAfter(database, after, window, upTo);
    for (const r of rows) {
      if (r.consumer !== null) continue;
      uuids.push(r.uuid);
      if (uuids.length === batchSize) return { uuids, cursor: r.uuid };
    }
    if (rows.length < window) {
      // The end of this stretch: wrap round once, to where this batch began.
      if (upTo !== null || from === null) return { uuids, cursor: null };
      after = null;
      upTo = from;
      window = Math.max(batchSize, FIRST_WINDOW);
      continue;
    }
    after = rows[rows.length - 1]!.uuid;
    // A stretch already done costs less the further ahead one looks.
    window = Math.min(window * 2, Math.max(MAX_WINDOW, batchSize));
  }
}

/**
 * Allocations made before consumers existed (Newton–Ocata, or below
 * microversion 1.8 until Queens) have no consumers row, and Train's schema
 * refuses them. Each distinct consumer_id gets one, owned by the configured
 * "incomplete consumer" project and user.
 *
 * A batch creates as many as placement-manage's would (the batch size, or
 * all that are left), so the counts printed and the exit codes are
 * placement's, batch by batch; it walks allocations.consumer_id in index
 * order from where the last batch stopped, so a run over many allocations
 * does not rescan the rows it already fixed (placement-manage's query does,
 * every batch) nor depend on a query plan.
 */
const createIncompleteConsumers: OnlineDataMigration = {
  name: 'create_incomplete_consumers',
  summary:
    'One consumers row per allocations.consumer_id that has none, owned by the incomplete-consumer project and user.',
  start({ database, incompleteConsumer }) {
    let owners: { projectId: number; userId: number } | undefined;
    let cursor: string | null = null;
    return async (batchSize): Promise<BatchResult> => {
      owners ??= {
        projectId: await ensureOwner(database, 'projects', incompleteConsumer.projectId),
        userId: await ensureOwner(database, 'users', incompleteConsumer.userId),
      };
      const { projectId, userId } = owners;
      for (;;) {
        const next = await nextMissing(database, cursor, batchSize);
        cursor = next.cursor;
        if (next.uuids.length === 0) return { found: 0, done: 0 };
        const now = utcTimestamp();
        const inserted = await insertConsumers(
          database,
          next.uuids.map((uuid) => ({
            uuid,
            project_id: projectId,
            user_id: userId,
            created_at: now,
          })),
        );
        // A batch whose every row a concurrent run created first is not
        // "nothing to do": look again instead of stopping.
        if (inserted > 0) return { found: inserted, done: inserted };
      }
    };
  },
};

export default createIncompleteConsumers;
