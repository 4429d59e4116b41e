/**
 * Writing allocations as placement's objects/allocation.py replace_all
 * does: every consumer named loses its allocations and gets the new ones,
 * in one transaction, after a capacity check of every inventory involved;
 * every provider touched and every consumer gets a new generation
 * (compare-and-swap, so concurrent writers cannot both pass the check),
 * and a consumer left without allocations is deleted.
 *
 * The provider generations are read and swapped first, inside the
 * transaction, before the capacity check reads usage: a writer that got
 * in between changed a generation, so the swap fails and the whole
 * transaction is run again (placement retries up to its
 * allocation_conflict_retry_count, 10), and once a swap succeeds its row
 * lock holds other writers of that provider off until the commit. That
 * is what makes two servers on one database unable to over-allocate.
 */
import type { RequestContext } from '../context.js';
import { ObjectNotFound } from '../context.js';
import { ApiError, ErrorCode } from '../errors.js';
import type { PlacementStore, ProviderRow } from '../store/index.js';
import {
  deleteCreatedConsumers,
  ensureConsumer,
  updateConsumers,
  type Consumer,
  type ConsumerFields,
  type EnsuredConsumer,
} from './consumers.js';
import { pySetOrder } from './py-set.js';

// ---------------------------------------------------------------------------
// What can go wrong, as placement's exceptions; each route words them itself.

/** A resource class that does not exist (placement's ResourceClassNotFound, a NotFound). */
export class AllocationNotFound extends Error {}

/** placement's InvalidInventory family: no such inventory, constraints, capacity. */
export class InvalidInventory extends Error {}

/** placement's ConcurrentUpdateDetected: a consumer changed meanwhile. */
export class ConcurrentUpdate extends Error {
  constructor(message = 'Another thread concurrently updated the data. Please retry your update') {
    super(message);
  }
}

/** placement's ResourceProviderConcurrentUpdateDetected: a provider's generation moved. */
export class ProviderConflict extends ConcurrentUpdate {
  constructor() {
    super(
      'Another thread concurrently updated the resource provider data. Please retry your update',
    );
  }
}

// ---------------------------------------------------------------------------

/** A provider as a write refers to it. */
export interface ProviderRef {
  id: number;
  uuid: string;
}

/** What one consumer should have afterwards. */
export interface ConsumerWrite {
  /** The consumer's UUID as the request names it. */
  uuid: string;
  ensured: EnsuredConsumer;
  /**
   * Per provider, the amounts by resource class name, in the request's
   * order; null: remove all of the consumer's allocations.
   */
  allocations: { provider: ProviderRef; resources: [string, number][] }[] | null;
}

/** One allocation of the list replace_all is given; `used` 0 marks one to remove. */
interface Allocation {
  provider: ProviderRef;
  className: string;
  classId: number;
  used: number;
  consumer: Consumer;
}

/** The body of one consumer's allocations in the dict form (1.12 and later). */
export interface ConsumerAllocations extends ConsumerFields {
  allocations: Record<string, { resources: Record<string, number>; generation?: number }>;
  mappings?: Record<string, string[]>;
}

/** The providers a consumer's allocations name, looked up in the request's order. */
export async function providersByUuid(
  ctx: RequestContext,
  uuids: Iterable<string>,
): Promise<Map<string, ProviderRow>> {
  const found = new Map<string, ProviderRow>();
  for (const uuid of uuids) {
    const rp = await ctx.store.providers.byUuid(uuid);
    if (!rp) {
      throw new ApiError(400, `Allocation for resource provider '${uuid}' that does not exist.`);
    }
    found.set(uuid, rp);
  }
  return found;
}

/** A ConsumerWrite from a consumer's dict-form allocations (create_allocation_list). */
export async function consumerWrite(
  ctx: RequestContext,
  uuid: string,
  ensured: EnsuredConsumer,
  allocations: ConsumerAllocations['allocations'],
): Promise<ConsumerWrite> {
  const entries = Object.entries(allocations);
  if (entries.length === 0) return { uuid, ensured, allocations: null };
  const providers = await providersByUuid(
    ctx,
    entries.map(([rp]) => rp),
  );
  return {
    uuid,
    ensured,
    allocations: entries.map(([rp, { resources }]) => ({
      provider: providers.get(rp)!,
      resources: Object.entries(resources),
    })),
  };
}

/**
 * replace_all with its retries: runs the write in a transaction, again
 * from the start when a provider generation moved meanwhile, as many
 * times as [placement] allocation_conflict_retry_count says (10; as in
 * placement, 0 never writes and a negative count never gives up).
 * Consumers the request created are deleted again when it fails.
 */
export async function replaceAllocations(
  ctx: RequestContext,
  writes: readonly ConsumerWrite[],
): Promise<void> {
  // The request's cache, read from the pool before the transaction holds a connection.
  await ctx.resourceClasses.all();
  try {
    const attempts = ctx.settings.allocationConflictRetryCount;
    for (let attempt = 1; attempts < 0 || attempt <= attempts; attempt++) {
      try {
        await ctx.store.transaction((tx) => writeAllocations(ctx, tx, writes));
        return;
      } catch (err) {
        if (!(err instanceof ProviderConflict)) throw err;
      }
    }
    throw new ProviderConflict();
  } catch (err) {
    await deleteCreatedConsumers(
      ctx,
      writes.map((w) => w.ensured),
    );
    throw err;
  }
}

/**
 * update_consumers and _set_allocations inside the caller's transaction:
 * swaps the providers' generations, moves the consumers to the owners
 * their requests name, replaces their allocations after the capacity
 * check, bumps the consumers' generations and deletes the consumers left
 * without allocations. A provider's expected generation is read in the
 * transaction unless `expected` has it (the reshaper's, which moved it
 * already). Returns each provider's new generation. Throws
 * ProviderConflict, ConcurrentUpdate, AllocationNotFound or InvalidInventory.
 */
export async function writeAllocations(
  ctx: RequestContext,
  tx: PlacementStore,
  writes: readonly ConsumerWrite[],
  expected: ReadonlyMap<number, number | null> = new Map(),
): Promise<Map<number, number>> {
  const list = await allocationList(ctx, tx, writes);

  // The providers' generations, swapped before anything else.
  const providers = new Map<number, ProviderRef>();
  for (const a of list) providers.set(a.provider.id, a.provider);
  const generations = new Map<number, number | null>();
  for (const rp of providers.values()) {
    if (expected.has(rp.id)) {
      generations.set(rp.id, expected.get(rp.id)!);
      continue;
    }
    const row = await tx.providers.byUuid(rp.uuid);
    // A provider deleted meanwhile has no inventory: the check below refuses it.
    if (row) generations.set(rp.id, row.generation);
  }
  const bumped = new Map<number, number>();
  for (const id of [...generations.keys()].sort((a, b) => a - b)) {
    const generation = generations.get(id)!;
    if (!(await tx.providers.bumpGeneration(id, generation))) throw new ProviderConflict();
    bumped.set(id, generation === null ? 1 : generation + 1);
  }

  // Then the consumers' owners. Rows are locked in one order (providers,
  // then consumers, each by id) so that concurrent writers queue, not deadlock.
  const byId =
    <T>(of: (x: T) => number) =>
    (a: T, b: T) =>
      of(a) - of(b);
  await updateConsumers(tx, writes.map((w) => w.ensured).sort(byId((e) => e.consumer.id)));

  const consumers = new Map<number, Consumer>();
  for (const a of list) if (!consumers.has(a.consumer.id)) consumers.set(a.consumer.id, a.consumer);
  for (const uuid of new Set(list.map((a) => a.consumer.uuid))) {
    await tx.allocations.deleteByIds(await tx.allocations.idsOfConsumer(uuid));
  }

  await checkCapacity(ctx, tx, list);

  for (const a of list) {
    if (a.used === 0) continue;
    await tx.allocations.insert({
      providerId: a.provider.id,
      classId: a.classId,
      consumerUuid: a.consumer.uuid,
      used: a.used,
    });
  }

  for (const c of [...consumers.values()].sort(byId((x) => x.id))) {
    if (!(await tx.consumers.bumpGeneration(c.id, c.generation))) throw new ConcurrentUpdate();
  }
  const holding = new Set(list.filter((a) => a.used > 0).map((a) => a.consumer.uuid));
  await tx.consumers.deleteIfNoAllocations(
    [...new Set([...consumers.values()].map((c) => c.uuid))].filter((u) => !holding.has(u)),
  );
  return bumped;
}

/**
 * The allocation objects placement builds: the new amounts, or for a
 * consumer whose allocations are emptied each current allocation with
 * `used` 0. Resource classes are resolved in this order, so the first
 * unknown one is the one reported.
 */
async function allocationList(
  ctx: RequestContext,
  tx: PlacementStore,
  writes: readonly ConsumerWrite[],
): Promise<Allocation[]> {
  const pending: Omit<Allocation, 'classId'>[] = [];
  for (const w of writes) {
    const consumer = w.ensured.consumer;
    if (w.allocations) {
      for (const { provider, resources } of w.allocations) {
        for (const [className, used] of resources)
          pending.push({ provider, className, used, consumer });
      }
    } else {
      for (const row of await tx.allocations.ofConsumer(w.uuid)) {
        pending.push({
          provider: { id: row.resource_provider_id, uuid: row.resource_provider_uuid },
          className: await ctx.resourceClasses.nameOf(row.resource_class_id),
          used: 0,
          consumer,
        });
      }
    }
  }
  const list: Allocation[] = [];
  for (const a of pending) {
    let classId: number;
    try {
      classId = await ctx.resourceClasses.idOf(a.className);
    } catch (err) {
      if (err instanceof ObjectNotFound) throw new AllocationNotFound(err.message);
      throw err;
    }
    list.push({ ...a, classId });
  }
  return list;
}

/** _check_capacity_exceeded: every provider has inventory, and every amount fits it. */
async function checkCapacity(
  ctx: RequestContext,
  tx: PlacementStore,
  list: readonly Allocation[],
): Promise<void> {
  if (list.length === 0) return;
  const classIds = pySetOrder(list.map((a) => a.classId));
  const providerUuids = [...new Set(list.map((a) => a.provider.uuid))];
  const rows = await tx.allocations.capacity(
    [...new Set(list.map((a) => a.provider.id))],
    classIds,
  );
  const inventory = new Map(rows.map((r) => [`${r.uuid}\u0000${r.resource_class_id}`, r]));
  const withInventory = new Set(rows.map((r) => r.uuid));
  const missing = providerUuids.filter((u) => !withInventory.has(u));
  if (missing.length > 0) {
    const classes: string[] = [];
    for (const id of classIds) classes.push(await ctx.resourceClasses.nameOf(id));
    throw new InvalidInventory(invalidInventory(classes.join(', '), missing.join(', ')));
  }
  const requested = new Map<string, number>();
  for (const a of list) {
    const key = `${a.provider.uuid}\u0000${a.classId}`;
    const sum = (requested.get(key) ?? 0) + a.used;
    requested.set(key, sum);
    if (a.used === 0) continue;
    const inv = inventory.get(key);
    if (!inv) throw new InvalidInventory(invalidInventory(a.className, a.provider.uuid));
    const refused = `Unable to create allocation for '${a.className}' on resource provider '${a.provider.uuid}'. The requested amount would`;
    if (a.used < inv.min_unit || a.used > inv.max_unit || a.used % inv.step_size !== 0) {
      throw new InvalidInventory(`${refused} violate inventory constraints.`);
    }
    const used = inv.used ?? 0;
    const capacity = (inv.total - inv.reserved) * inv.allocation_ratio;
    if (capacity < used + a.used || capacity < used + sum) {
      throw new InvalidInventory(`${refused} exceed the capacity.`);
    }
  }
}

const invalidInventory = (classes: string, providers: string) =>
  `Inventory for '${classes}' on resource provider '${providers}' invalid.`;

// ---------------------------------------------------------------------------
// The routes' own wording of those failures.

/** PUT and POST /allocations: how placement's handler words what replace_all raised. */
function allocationError(err: unknown, notFoundPrefix: string): unknown {
  if (err instanceof AllocationNotFound)
    return new ApiError(400, `${notFoundPrefix}${err.message}`);
  if (err instanceof InvalidInventory) {
    return new ApiError(409, `Unable to allocate inventory: ${err.message}`);
  }
  if (err instanceof ConcurrentUpdate) {
    return new ApiError(
      409,
      `Inventory and/or allocations changed while attempting to allocate: ${err.message}`,
      { code: ErrorCode.CONCURRENT_UPDATE },
    );
  }
  return err;
}

/** The body of PUT /allocations/{consumer_uuid}, list form (before 1.12) or dict form. */
export interface PutAllocationsBody extends ConsumerFields {
  allocations:
    | { resource_provider: { uuid: string }; resources: Record<string, number> }[]
    | ConsumerAllocations['allocations'];
  mappings?: Record<string, string[]>;
}

/**
 * PUT /allocations/{consumer_uuid}: the consumer's allocations replaced by
 * the body's (emptied, from 1.28, by an empty dict). `consumerUuid` is
 * already in its canonical form.
 */
export async function setConsumerAllocations(
  ctx: RequestContext,
  consumerUuid: string,
  body: PutAllocationsBody,
): Promise<void> {
  let allocations: ConsumerAllocations['allocations'];
  if (Array.isArray(body.allocations)) {
    // The list form, keyed by provider as the dict form is: a later entry wins.
    const byProvider = new Map<string, { resources: Record<string, number> }>();
    for (const a of body.allocations) {
      byProvider.set(a.resource_provider.uuid, { resources: a.resources });
    }
    allocations = Object.fromEntries(byProvider);
  } else {
    allocations = body.allocations;
  }
  const ensured = await ensureConsumer(ctx, consumerUuid, body);
  // A provider that does not exist is refused before the write, and a
  // consumer created above stays, as in placement.
  const write = await consumerWrite(ctx, consumerUuid, ensured, allocations);
  try {
    await replaceAllocations(ctx, [write]);
  } catch (err) {
    throw allocationError(err, `Unable to allocate inventory for consumer ${consumerUuid}: `);
  }
}

/**
 * POST /allocations (1.13): several consumers' allocations replaced in one
 * transaction; a consumer given no allocations loses its own.
 */
export async function setAllocations(
  ctx: RequestContext,
  body: Record<string, ConsumerAllocations>,
): Promise<void> {
  const ensured = await inspectConsumers(ctx, body);
  const writes: ConsumerWrite[] = [];
  for (const [uuid, data] of Object.entries(body)) {
    writes.push(await consumerWrite(ctx, uuid, ensured.get(uuid)!, data.allocations));
  }
  try {
    await replaceAllocations(ctx, writes);
  } catch (err) {
    throw allocationError(err, 'Unable to allocate inventory ');
  }
}

/**
 * ensure_consumer for every consumer of a POST /allocations or reshaper
 * body, in the body's order; if one fails, those created before it are
 * deleted again.
 */
export async function inspectConsumers(
  ctx: RequestContext,
  body: Record<string, ConsumerFields>,
): Promise<Map<string, EnsuredConsumer>> {
  const ensured = new Map<string, EnsuredConsumer>();
  try {
    for (const [uuid, data] of Object.entries(body)) {
      ensured.set(uuid, await ensureConsumer(ctx, uuid, data));
    }
  } catch (err) {
    await deleteCreatedConsumers(ctx, [...ensured.values()]);
    throw err;
  }
  return ensured;
}

/**
 * DELETE /allocations/{consumer_uuid}: the consumer's allocations and the
 * consumer row go; provider and consumer generations stay as they are, as
 * in placement.
 */
export async function deleteConsumerAllocations(
  ctx: RequestContext,
  consumerUuid: string,
): Promise<void> {
  const rows = await ctx.store.allocations.ofConsumer(consumerUuid);
  if (rows.length === 0) {
    throw new ApiError(404, `No allocations for consumer '${consumerUuid}'`);
  }
  await ctx.store.transaction(async (tx) => {
    await tx.allocations.deleteByIds(rows.map((r) => r.id));
    await tx.consumers.deleteIfNoAllocations([consumerUuid]);
  });
}
