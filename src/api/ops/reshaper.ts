/**
 * POST /reshaper (1.30): a tree's inventories and allocations replaced in
 * one transaction, as placement's handlers/reshaper.py and
 * objects/reshaper.py do it. Inventory moves in two steps around the
 * allocations, because inventory with allocations cannot be deleted and
 * allocations cannot be made against inventory that does not exist yet:
 * first each provider gets the union of what it has and what it will have,
 * then the allocations are replaced (checked against that union), then
 * each provider gets exactly its new inventory, which refuses to drop a
 * class that still has allocations. Every provider generation moves by
 * compare-and-swap, each time from the one the step before left.
 */
import { ObjectNotFound, type RequestContext } from '../context.js';
import { ApiError, ErrorCode } from '../errors.js';
import type { ProviderRow } from '../store/index.js';
import {
  AllocationNotFound,
  ConcurrentUpdate,
  consumerWrite,
  InvalidInventory,
  inspectConsumers,
  writeAllocations,
  type ConsumerAllocations,
  type ConsumerWrite,
} from './allocations.js';
import { deleteCreatedConsumers } from './consumers.js';
import {
  InvalidInventory as InvalidInventoryChange,
  InventoryInUse,
  InventoryNotFound,
  ProviderConcurrentUpdate,
  setInventories,
  withInventoryDefaults,
  type InventoryFields,
} from './inventories.js';

/** The body of POST /reshaper, as its schema let it through. */
export interface ReshaperBody {
  inventories: Record<
    string,
    {
      resource_provider_generation: number;
      inventories: Record<string, Pick<InventoryFields, 'total'> & Partial<InventoryFields>>;
    }
  >;
  allocations: Record<string, ConsumerAllocations>;
}

/** One provider's new inventory, its generation checked against the request's. */
interface ProviderInventory {
  provider: ProviderRow;
  inventories: Map<string, InventoryFields>;
}

export async function reshape(ctx: RequestContext, body: ReshaperBody): Promise<void> {
  const targets: ProviderInventory[] = [];
  for (const [uuid, data] of Object.entries(body.inventories)) {
    const provider = await ctx.store.providers.byUuid(uuid);
    if (!provider) {
      throw new ApiError(
        400,
        `Resource provider ${uuid} in inventories not found: No resource provider with uuid ${uuid} found`,
        { code: ErrorCode.RESOURCE_PROVIDER_NOT_FOUND },
      );
    }
    // The early check; the swaps in the transaction catch a change after it.
    if (data.resource_provider_generation !== provider.generation) {
      throw new ApiError(
        409,
        `resource provider generation conflict for provider ${uuid}: actual: ${provider.generation}, given: ${data.resource_provider_generation}`,
        { code: ErrorCode.CONCURRENT_UPDATE },
      );
    }
    targets.push({
      provider,
      inventories: new Map(
        Object.entries(data.inventories).map(([rc, inv]) => [rc, withInventoryDefaults(inv)]),
      ),
    });
  }

  const ensured = await inspectConsumers(ctx, body.allocations);
  const writes: ConsumerWrite[] = [];
  for (const [uuid, data] of Object.entries(body.allocations)) {
    writes.push(await consumerWrite(ctx, uuid, ensured.get(uuid)!, data.allocations));
  }

  await ctx.resourceClasses.all();
  try {
    await ctx.store.transaction(async (tx) => {
      // Each provider's generation as this transaction moves it.
      const generations = new Map<number, number | null>();
      for (const { provider } of targets) generations.set(provider.id, provider.generation);
      const current = (p: ProviderRow): ProviderRow => ({
        ...p,
        generation: generations.get(p.id) ?? null,
      });

      for (const { provider, inventories } of targets) {
        // An empty new inventory would only replace the current one with itself.
        if (inventories.size === 0) continue;
        const union = new Map<string, InventoryFields>();
        for (const row of await tx.inventories.ofProvider(provider.id)) {
          union.set(await ctx.resourceClasses.nameOf(row.resource_class_id), row);
        }
        for (const [rc, inv] of inventories) union.set(rc, inv);
        const change = await setInventories(tx, ctx, current(provider), union);
        generations.set(provider.id, change.generation);
      }

      const bumped = await writeAllocations(ctx, tx, writes, generations);
      for (const [id, generation] of bumped) generations.set(id, generation);

      for (const { provider, inventories } of targets) {
        const change = await setInventories(tx, ctx, current(provider), inventories);
        generations.set(provider.id, change.generation);
      }
    });
  } catch (err) {
    await deleteCreatedConsumers(
      ctx,
      writes.map((w) => w.ensured),
    );
    throw reshapeError(err);
  }
}

/** How placement's reshaper handler words what the transaction raised. */
function reshapeError(err: unknown): unknown {
  if (err instanceof ConcurrentUpdate || err instanceof ProviderConcurrentUpdate) {
    return new ApiError(409, `update conflict: ${err.message}`, {
      code: ErrorCode.CONCURRENT_UPDATE,
    });
  }
  // A NotFound: an unknown resource class, in the inventories or the allocations.
  if (
    err instanceof AllocationNotFound ||
    err instanceof InventoryNotFound ||
    (err instanceof ObjectNotFound && err.kind === 'resource_class')
  ) {
    return new ApiError(400, `malformed reshaper data: ${err.message}`);
  }
  if (err instanceof InventoryInUse) {
    return new ApiError(409, `update conflict: ${err.message}`, {
      code: ErrorCode.INVENTORY_INUSE,
    });
  }
  if (err instanceof InvalidInventory || err instanceof InvalidInventoryChange) {
    return new ApiError(409, `Unable to allocate inventory: ${err.message}`);
  }
  return err;
}
