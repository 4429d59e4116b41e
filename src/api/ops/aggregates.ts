/**
 * PUT /resource_providers/{uuid}/aggregates, as placement's
 * _set_aggregates makes it: aggregates are created the first time a UUID is
 * seen, associations added and removed; from 1.19 the caller's generation
 * is checked and the provider's bumped.
 */
import type { RequestContext } from '../context.js';
import { ApiError, ErrorCode } from '../errors.js';
import type { ProviderRow } from '../store/index.js';

/** How many times a transaction that lost a race to insert an aggregate runs (wrap_db_retry). */
const ATTEMPTS = 11;

/**
 * Associates the provider with exactly `uuids`. With `generation` (1.19+),
 * refuses a stale one and bumps it; returns the provider's generation after.
 */
export async function setAggregates(
  ctx: RequestContext,
  rp: ProviderRow,
  uuids: string[],
  generation?: number,
): Promise<number | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.store.transaction(async (tx) => {
        if (generation !== undefined) {
          const fresh = await tx.providers.byUuid(rp.uuid);
          if (fresh?.generation !== generation) {
            throw new ApiError(
              409,
              "Resource provider's generation already changed. Please update the generation and try again.",
              { code: ErrorCode.CONCURRENT_UPDATE },
            );
          }
        }
        const wanted = new Set(uuids);
        const existing = await tx.aggregates.ofProvider(rp.id);
        const existingUuids = new Set(existing.map((a) => a.uuid));
        const existingIds = new Set(existing.map((a) => a.id));
        for (const uuid of wanted) {
          if (existingUuids.has(uuid)) continue;
          const id = await tx.aggregates.ensure(uuid);
          // Already associated (MySQL compares UUIDs without case): as placement, leave it.
          if (!existingIds.has(id)) await tx.aggregates.associate(rp.id, id);
        }
        await tx.aggregates.dissociate(
          rp.id,
          existing.filter((a) => !wanted.has(a.uuid)).map((a) => a.id),
        );
        if (generation === undefined) return rp.generation;
        if (!(await tx.providers.bumpGeneration(rp.id, generation))) {
          throw new ApiError(
            409,
            'Update conflict: Another thread concurrently updated the resource provider data. Please retry your update',
            { code: ErrorCode.CONCURRENT_UPDATE },
          );
        }
        return generation + 1;
      });
    } catch (err) {
      // Another writer inserted one of these aggregates or associations first: run again.
      if (!ctx.store.db.dialect.isUniqueViolation(err)) throw err;
      if (attempt >= ATTEMPTS) {
        throw new ApiError(409, 'Update conflict: another request changed the same aggregates.');
      }
    }
  }
}
