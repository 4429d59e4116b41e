import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { utcTimestamp } from '../db/timestamps.js';
import { retryOnConflict } from '../db/transaction.js';
import type { BatchResult, OnlineDataMigration } from './types.js';

/**
 * Sets root_provider_id on `ids` to `root` (their own id when `root` is
 * null), only where it is still NULL, so that a concurrent run never counts
 * a row twice. Returns how many rows it set.
 */
async function setRoots(
  knex: Knex,
  database: Database,
  ids: number[],
  root: number | null,
): Promise<number> {
  if (ids.length === 0) return 0;
  return retryOnConflict(database, () =>
    knex('resource_providers')
      .whereIn('id', ids)
      .whereNull('root_provider_id')
      .update({
        root_provider_id: root === null ? knex.ref('id') : root,
        updated_at: utcTimestamp(),
      }),
  );
}

/**
 * Providers created before Queens have no root_provider_id. A batch takes
 * as many of them as placement-manage's does (the batch size, or all that
 * are left), so its counts and exit codes are placement's, batch by batch;
 * but where placement makes every one its own root, a provider with a
 * parent gets its parent's root, as placement's API would have given it.
 * Only a provider whose parents never reach a root (a cycle) is left, and
 * reported: a human must decide where its tree starts. A provider whose
 * parent row is gone (possible only without foreign keys) becomes its own
 * root, as placement makes it; Orphaned Records still reports the parent.
 */
const setRootProviderIds: OnlineDataMigration = {
  name: 'set_root_provider_ids',
  summary:
    "root_provider_id where it is NULL (pre-Queens): a provider's own id, or its parent's root.",
  start({ database }) {
    const { knex } = database;
    return async (batchSize): Promise<BatchResult> => {
      // Parentless providers first (and, as placement, any whose parent row is
      // gone): one UPDATE, the derived table lets MySQL take a LIMIT.
      let done = await retryOnConflict(database, () =>
        knex('resource_providers')
          .whereIn('id', (q) =>
            q
              .select('id')
              .from(
                knex('resource_providers as r')
                  .leftJoin('resource_providers as p', 'p.id', 'r.parent_provider_id')
                  .select({ id: 'r.id' })
                  .whereNull('r.root_provider_id')
                  .whereNull('p.id')
                  .orderBy('r.id')
                  .limit(batchSize)
                  .as('batch'),
              ),
          )
          .whereNull('root_provider_id')
          .update({ root_provider_id: knex.ref('id'), updated_at: utcTimestamp() }),
      );
      // Then children whose parent has a root, level by level (rare: nested
      // providers came with root_provider_id, in Queens).
      while (done < batchSize) {
        const children = (await knex('resource_providers as c')
          .join('resource_providers as p', 'p.id', 'c.parent_provider_id')
          .whereNull('c.root_provider_id')
          .whereNotNull('p.root_provider_id')
          .orderBy('c.id')
          .limit(batchSize - done)
          .select({ id: 'c.id', root: 'p.root_provider_id' })) as {
          id: number | string;
          root: number | string;
        }[];
        if (children.length === 0) break;
        const byRoot = new Map<number, number[]>();
        for (const c of children) {
          const list = byRoot.get(Number(c.root)) ?? [];
          list.push(Number(c.id));
          byRoot.set(Number(c.root), list);
        }
        let set = 0;
        for (const [root, ids] of byRoot) set += await setRoots(knex, database, ids, root);
        // Another run set them first: look again rather than stop short.
        done += set;
      }
      if (done >= batchSize) return { found: done, done };
      const stuck = Number(
        (
          (await knex('resource_providers')
            .whereNull('root_provider_id')
            .count({ n: '*' })
            .first()) as { n: number | string } | undefined
        )?.n ?? 0,
      );
      if (stuck === 0) return { found: done, done };
      return {
        found: done + stuck,
        done,
        unfixable: {
          rows: stuck,
          reason: `${stuck} resource provider${stuck === 1 ? ' has' : 's have'} no root_provider_id and parents that never reach a root (a parent_provider_id cycle), so ${stuck === 1 ? 'its' : 'their'} root cannot be set by rule`,
          hint: "Break the cycle (SELECT id, uuid, parent_provider_id FROM resource_providers WHERE root_provider_id IS NULL lists them): set one provider's parent_provider_id to NULL, then run the migrations again.",
        },
      };
    };
  },
};

export default setRootProviderIds;
