/**
 * The business rules of inventory writes, as placement's objects make them
 * (objects/resource_provider.py: _set_inventory, _add_inventory,
 * _update_inventory, _delete_inventory and their helpers; the capacity rule
 * of handlers/inventory.py). Every function here runs inside the caller's
 * transaction (`ctx.store.transaction(async (tx) => ...)`), so a handler or
 * the reshaper can combine several of them and commit once.
 *
 * Errors are placement's exceptions, with placement's own message text;
 * each caller words its HTTP answer around `message` as its placement
 * handler does.
 *
 * Concurrency: each write moves the provider's generation by
 * compare-and-swap last, after its row changes, as placement does: a
 * writer that raced another fails on the swap (ProviderConcurrentUpdate),
 * or earlier on the rows the other committed (DuplicateInventory,
 * InventoryClassNotFound), and its transaction rolls back. Taking the
 * locks in placement's order (inventory rows, then the provider row) keeps
 * ours and placement's own servers from deadlocking each other on one
 * database.
 */
import type { PlacementDriver } from '../../db/dialect/dialect.js';
import type { RequestContext } from '../context.js';
import type { Version } from '../microversion.js';
import { failedInsertText, type BoundValue } from '../sqlalchemy-errors.js';
import { MAX_INT, type PlacementStore, type ProviderRow } from '../store/index.js';
import { INVENTORY_FIELDS, type InventoryValues } from '../store/inventories.js';

/** One inventory's settings (placement's Inventory object without its provider and class). */
export type InventoryFields = InventoryValues;

/** The values placement gives the fields a request leaves out (handlers/inventory.py INVENTORY_DEFAULTS). */
export const INVENTORY_DEFAULTS: Readonly<Omit<InventoryFields, 'total'>> = {
  reserved: 0,
  min_unit: 1,
  max_unit: MAX_INT,
  step_size: 1,
  allocation_ratio: 1.0,
};

/** An inventory of a request body with placement's defaults filled in. */
export function withInventoryDefaults(
  given: Pick<InventoryFields, 'total'> & Partial<InventoryFields>,
): InventoryFields {
  return { ...INVENTORY_DEFAULTS, ...given };
}

/** Inventory.capacity: int((total - reserved) * allocation_ratio), truncated toward zero as Python's int(). */
export function inventoryCapacity(inv: InventoryFields): number {
  return Math.trunc((inv.total - inv.reserved) * inv.allocation_ratio);
}

/** Base of the errors below: placement's exceptions of inventory writes. */
export class InventoryError extends Error {}

/** placement's InvalidInventory family (InvalidInventoryCapacity, InventoryInUse). */
export class InvalidInventory extends InventoryError {}

/**
 * placement's NotFound family among these errors (InventoryClassNotFound,
 * NoInventoryToDelete); an unknown class name is the request context's
 * ObjectNotFound, also a NotFound to placement.
 */
export class InventoryNotFound extends InventoryError {}

/**
 * InvalidInventoryCapacity / InvalidInventoryCapacityReservedCanBeTotal:
 * the capacity is not positive (before 1.26) or negative (1.26 on).
 */
export class InvalidInventoryCapacity extends InvalidInventory {
  constructor(resourceClass: string, providerUuid: string, reservedCanBeTotal: boolean) {
    super(
      `Invalid inventory for '${resourceClass}' on resource provider '${providerUuid}'. ` +
        (reservedCanBeTotal
          ? 'The reserved value is greater than total.'
          : 'The reserved value is greater than or equal to total.'),
    );
  }
}

/** InventoryInUse: inventory to remove still has allocations. */
export class InventoryInUse extends InvalidInventory {
  constructor(
    readonly resourceClasses: readonly string[],
    providerUuid: string,
  ) {
    super(
      `Inventory for '${resourceClasses.join(', ')}' on resource provider '${providerUuid}' in use.`,
    );
  }
}

/** ResourceProviderConcurrentUpdateDetected (a ConcurrentUpdateDetected): the generation compare-and-swap found it moved. */
export class ProviderConcurrentUpdate extends InventoryError {
  constructor() {
    super(
      'Another thread concurrently updated the resource provider data. Please retry your update',
    );
  }
}

/** InventoryWithResourceClassNotFound: an update of a class the provider has no inventory of. */
export class InventoryClassNotFound extends InventoryNotFound {
  constructor(readonly resourceClass: string) {
    super(`No inventory of class ${resourceClass} found.`);
  }
}

/** NotFound of _delete_inventory: the provider has no inventory of the class. */
export class NoInventoryToDelete extends InventoryNotFound {
  constructor(readonly resourceClass: string) {
    super(`No inventory of class ${resourceClass} found for delete`);
  }
}

/** The fields in the order placement's INSERT binds them (after created_at and the two ids). */
const INSERT_FIELDS = INVENTORY_FIELDS;

/**
 * DBDuplicateEntry: an insert met a row of the same provider and class.
 * Its message is SQLAlchemy's text of the failed INSERT, as placement
 * passes it on; textFor() words it with the values as the client wrote
 * them (10.0 for a total sent as 10.0).
 */
export class DuplicateInventory extends InventoryError {
  private readonly at = new Date();

  constructor(
    private readonly driver: PlacementDriver,
    override readonly cause: unknown,
    /** The class whose row was there already. */
    readonly resourceClass: string,
    private readonly providerId: number,
    private readonly classId: number,
    inventory: InventoryFields,
  ) {
    super('');
    this.message = this.textFor(inventory);
  }

  textFor(values: Record<(typeof INSERT_FIELDS)[number], BoundValue>): string {
    const row: [string, BoundValue][] = [
      ['created_at', { datetime: this.at }],
      ['resource_provider_id', this.providerId],
      ['resource_class_id', this.classId],
      ...INSERT_FIELDS.map((f): [string, BoundValue] => [f, values[f]]),
    ];
    return (
      failedInsertText(this.driver, this.cause, 'inventories', row, ['allocation_ratio']) ??
      driverMessage(this.cause)
    );
  }
}

/** What a write did to the provider. */
export interface InventoryChange {
  /** The provider's generation after the write (the one the response reports). */
  generation: number;
  /**
   * Classes whose allocations now exceed their new capacity. placement
   * allows that and logs "Resource provider <uuid> is now over-capacity
   * for <class>" as a warning; report it where you log.
   */
  overCapacity: string[];
}

/**
 * _validate_inventory_capacity: throws InvalidInventoryCapacity for the
 * first inventory (in the order given) whose capacity is not positive
 * (before 1.26) or is negative (1.26 on). Handlers call it before their
 * write; the reshaper does not (placement's does not either).
 */
export function checkInventoryCapacity(
  version: Version,
  providerUuid: string,
  inventories: Iterable<[string, InventoryFields]>,
): void {
  const reservedCanBeTotal = version.atLeast('1.26');
  for (const [rc, inv] of inventories) {
    const capacity = inventoryCapacity(inv);
    if (reservedCanBeTotal ? capacity < 0 : capacity <= 0) {
      throw new InvalidInventoryCapacity(rc, providerUuid, reservedCanBeTotal);
    }
  }
}

/** The database's own words for a failed statement (without knex's copy of the SQL). */
function driverMessage(err: unknown): string {
  const e = err as { sqlMessage?: unknown; message?: unknown };
  if (typeof e.sqlMessage === 'string') return e.sqlMessage;
  return String(e.message ?? err).replace(/^[\s\S]* - (?=[^-]*$)/, '');
}

/** Moves the generation on by compare-and-swap, or throws ProviderConcurrentUpdate. */
async function bumpGeneration(tx: PlacementStore, provider: ProviderRow): Promise<number> {
  if (!(await tx.providers.bumpGeneration(provider.id, provider.generation))) {
    throw new ProviderConcurrentUpdate();
  }
  return provider.generation === null ? 1 : provider.generation + 1;
}

async function insertInventory(
  tx: PlacementStore,
  provider: ProviderRow,
  rc: string,
  classId: number,
  inv: InventoryFields,
): Promise<void> {
  try {
    await tx.inventories.insert(provider.id, classId, inv);
  } catch (err) {
    if (tx.db.dialect.isUniqueViolation(err)) {
      const driver = tx.db.dialect.placementDriver;
      throw new DuplicateInventory(driver, err, rc, provider.id, classId, inv);
    }
    throw err;
  }
}

/**
 * _update_inventory_for_provider: overwrites the classes given (one
 * statement), noting those whose allocations exceed their new capacity;
 * throws InventoryClassNotFound for the first class, in the order given,
 * that the provider no longer has.
 */
async function updateClasses(
  tx: PlacementStore,
  provider: ProviderRow,
  updates: readonly (readonly [rc: string, classId: number, inv: InventoryFields])[],
  used: (classId: number) => number | null | Promise<number | null>,
  overCapacity: string[],
): Promise<void> {
  for (const [rc, classId, inv] of updates) {
    const allocated = await used(classId);
    if (allocated !== null && allocated > inventoryCapacity(inv)) overCapacity.push(rc);
  }
  const matched = await tx.inventories.updateMany(
    provider.id,
    updates.map(([, classId, inv]) => [classId, inv] as const),
  );
  if (matched === updates.length) return;
  const held = new Set(
    (await tx.inventories.ofProvider(provider.id)).map((r) => r.resource_class_id),
  );
  const gone = updates.find(([, classId]) => !held.has(classId));
  throw new InventoryClassNotFound(gone?.[0] ?? updates[0]![0]);
}

/** The in-use check of _delete_inventory_from_provider, then the delete; returns the rows deleted. */
async function deleteClasses(
  tx: PlacementStore,
  ctx: RequestContext,
  provider: ProviderRow,
  ids: number[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const inUse = await tx.inventories.classesInUse(provider.id, ids);
  if (inUse.length > 0) {
    const names: string[] = [];
    for (const id of inUse) names.push(await ctx.resourceClasses.nameOf(id));
    throw new InventoryInUse(names, provider.uuid);
  }
  return tx.inventories.delete(provider.id, ids);
}

/**
 * Makes `inventories` (class name → complete fields, defaults already
 * applied) the provider's whole inventory, as placement's _set_inventory:
 * classes not named are deleted, new ones inserted, the rest overwritten.
 * An empty map deletes everything. Always moves the generation on by one,
 * even when nothing changes.
 *
 * Contract:
 * - Runs on `tx` only (call it inside `ctx.store.transaction`); commits
 *   nothing itself, and on a throw the caller's transaction must roll back
 *   (ctx.store.transaction does). Safe to rerun when the transaction is
 *   retried: it keeps no state and does not modify `provider`.
 * - Reads only through `tx` (the classes named come with the provider's
 *   inventories in one read), so it needs no cache loaded beforehand.
 * - `provider.generation` is the generation the caller expects (the one
 *   the client sent, or the one read when the request began). For a second
 *   call on the same provider in one transaction pass the generation the
 *   first returned (`{ ...provider, generation }`). Read the provider
 *   before the transaction or with `tx`.
 * - Checks, in order: every class name exists (else ObjectNotFound
 *   "No such resource class X.", kind 'resource_class'); no class to
 *   delete has allocations (else InventoryInUse, classes in id order);
 *   then, after the rows are written (updates in one statement), the
 *   generation compare-and-swap
 *   (else ProviderConcurrentUpdate). A writer that raced this one can also
 *   surface as DuplicateInventory (it inserted a class this one inserts)
 *   or InventoryClassNotFound (it deleted a class this one updates), as
 *   in placement; both mean "conflict, retry". Capacity is NOT checked
 *   here (checkInventoryCapacity, which handlers call first), nor are the
 *   schema bounds (the request schema's job). A class updated below what
 *   is allocated of it is allowed and reported in overCapacity.
 * - Returns the new generation and the over-capacity classes.
 */
export async function setInventories(
  tx: PlacementStore,
  ctx: RequestContext,
  provider: ProviderRow,
  inventories: ReadonlyMap<string, InventoryFields>,
): Promise<InventoryChange> {
  // One read: the provider's inventories with what is allocated of each, and the classes named.
  const { held, classIds } = await tx.inventories.forWrite(provider.id, [...inventories.keys()]);
  const wanted = new Map<string, number>();
  for (const rc of inventories.keys()) {
    const id = classIds.get(rc);
    if (id === undefined) throw ctx.resourceClasses.missing(rc);
    wanted.set(rc, id);
  }
  const wantedIds = new Set(wanted.values());
  const toDelete = [...held.keys()].filter((id) => !wantedIds.has(id)).sort((a, b) => a - b);
  const inUse = toDelete.filter((id) => held.get(id)!.used !== null);
  if (inUse.length > 0) {
    const names = inUse.map((id) => {
      const name = held.get(id)!.name;
      if (name === null) throw ctx.resourceClasses.missing(id);
      return name;
    });
    throw new InventoryInUse(names, provider.uuid);
  }
  if (toDelete.length > 0) await tx.inventories.delete(provider.id, toDelete);
  // Inserts, then updates, each in class id order: every writer takes the row locks in one order.
  const byId = [...inventories]
    .map(([rc, inv]) => [rc, wanted.get(rc)!, inv] as const)
    .sort(([, a], [, b]) => a - b);
  for (const [rc, id, inv] of byId) {
    if (!held.has(id)) await insertInventory(tx, provider, rc, id, inv);
  }
  const overCapacity: string[] = [];
  const updates = byId.filter(([, id]) => held.has(id));
  if (updates.length > 0) {
    await updateClasses(tx, provider, updates, (id) => held.get(id)!.used, overCapacity);
  }
  return { generation: await bumpGeneration(tx, provider), overCapacity };
}

/**
 * _add_inventory: one class the provider has no inventory of yet. Throws
 * ObjectNotFound (unknown class), ProviderConcurrentUpdate, or
 * DuplicateInventory when the class is there already. Same transaction
 * contract as setInventories.
 */
export async function addInventory(
  tx: PlacementStore,
  ctx: RequestContext,
  provider: ProviderRow,
  resourceClass: string,
  inventory: InventoryFields,
): Promise<InventoryChange> {
  const id = await ctx.resourceClasses.idOf(resourceClass);
  await insertInventory(tx, provider, resourceClass, id, inventory);
  return { generation: await bumpGeneration(tx, provider), overCapacity: [] };
}

/**
 * _update_inventory: overwrites one class the provider has. Throws
 * ObjectNotFound (unknown class), ProviderConcurrentUpdate, or
 * InventoryClassNotFound when the provider has none of it; a capacity
 * below what is allocated is allowed and reported. Same transaction
 * contract as setInventories.
 */
export async function updateInventory(
  tx: PlacementStore,
  ctx: RequestContext,
  provider: ProviderRow,
  resourceClass: string,
  inventory: InventoryFields,
): Promise<InventoryChange> {
  const id = await ctx.resourceClasses.idOf(resourceClass);
  const overCapacity: string[] = [];
  await updateClasses(
    tx,
    provider,
    [[resourceClass, id, inventory]],
    (classId) => tx.inventories.used(provider.id, classId),
    overCapacity,
  );
  return { generation: await bumpGeneration(tx, provider), overCapacity };
}

/**
 * _delete_inventory: removes one class. Throws ObjectNotFound (unknown
 * class), ProviderConcurrentUpdate, InventoryInUse, or NoInventoryToDelete
 * when the provider has none of it. Same transaction contract as
 * setInventories.
 */
export async function deleteInventory(
  tx: PlacementStore,
  ctx: RequestContext,
  provider: ProviderRow,
  resourceClass: string,
): Promise<InventoryChange> {
  const id = await ctx.resourceClasses.idOf(resourceClass);
  if ((await deleteClasses(tx, ctx, provider, [id])) === 0) {
    throw new NoInventoryToDelete(resourceClass);
  }
  return { generation: await bumpGeneration(tx, provider), overCapacity: [] };
}
