import { utcTimestamp } from '../db/timestamps.js';
import { retryOnConflict } from '../db/transaction.js';
import type { BatchResult, OnlineDataMigration } from './types.js';

/**
 * Providers created before Queens have no root_provider_id; a provider
 * without a parent is its own root. A provider that has a parent but no
 * root cannot be fixed by rule (placement's own migration would wrongly make
 * it a root), so it is counted and reported instead.
 */
const setRootProviderIds: OnlineDataMigration = {
  name: 'set_root_provider_ids',
  summary: 'root_provider_id = id where it is NULL on providers without a parent (pre-Queens).',
  start({ database }) {
    const { knex } = database;
    return async (batchSize): Promise<BatchResult> => {
      // One cheap look first (the root_provider_id index holds the NULLs):
      // once the roots are done, every later batch costs this one query.
      const counts = (await knex('resource_providers')
        .whereNull('root_provider_id')
        .select(
          knex.raw('COUNT(*) AS ??', ['missing']),
          knex.raw('COUNT(??) AS ??', ['parent_provider_id', 'withParent']),
        )
        .first()) as { missing: number | string; withParent: number | string } | undefined;
      const withParent = Number(counts?.withParent ?? 0);
      const fixable = Number(counts?.missing ?? 0) - withParent;

      let done = 0;
      if (fixable > 0) {
        // One UPDATE, committed on its own; the derived table lets MySQL take a LIMIT.
        done = await retryOnConflict(database, () =>
          knex('resource_providers')
            .whereIn('id', (q) =>
              q
                .select('id')
                .from(
                  knex('resource_providers')
                    .select('id')
                    .whereNull('root_provider_id')
                    .whereNull('parent_provider_id')
                    .orderBy('id')
                    .limit(batchSize)
                    .as('batch'),
                ),
            )
            .whereNull('root_provider_id')
            .update({ root_provider_id: knex.ref('id'), updated_at: utcTimestamp() }),
        );
      }
      // Providers with a parent need a human; they count as found once the fixable ones are done.
      if (withParent === 0 || done >= batchSize || fixable > done) return { found: done, done };
      return {
        found: done + withParent,
        done,
        unfixable: {
          rows: withParent,
          reason: `${withParent} resource provider${withParent === 1 ? ' has' : 's have'} a parent_provider_id but no root_provider_id, so ${withParent === 1 ? 'its' : 'their'} root cannot be set by rule`,
          hint: "Set each one's root_provider_id to its parent's root_provider_id (SELECT id, uuid, parent_provider_id FROM resource_providers WHERE root_provider_id IS NULL AND parent_provider_id IS NOT NULL lists them), then run the migrations again.",
        },
      };
    };
  },
};

export default setRootProviderIds;
