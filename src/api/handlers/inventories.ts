/** /resource_providers/{uuid}/inventories[/{resource_class}]: reads, and the writes of handlers/inventory.py. */
import { ObjectNotFound, type RequestContext } from '../context.js';
import { ApiError, badRequest, ErrorCode } from '../errors.js';
import {
  addInventory,
  checkInventoryCapacity,
  deleteInventory,
  DuplicateInventory,
  InvalidInventoryCapacity,
  INVENTORY_DEFAULTS,
  InventoryClassNotFound,
  InventoryInUse,
  NoInventoryToDelete,
  ProviderConcurrentUpdate,
  setInventories,
  updateInventory,
  type InventoryFields,
} from '../ops/inventories.js';
import { parseBody, type SchemaObject } from '../json-schema.js';
import { PyFloat, type PyDict, type PyJson } from '../py-json.js';
import { asFloat, empty, json, lastModifiedOf, type Handler } from '../response.js';
import {
  BASE_INVENTORY_SCHEMA,
  POST_INVENTORY_SCHEMA,
  PUT_INVENTORY_SCHEMA,
} from '../schemas/inventories.js';
import type { InventoryRow, PlacementStore, ProviderRow } from '../store/index.js';
import { INVENTORY_FIELDS } from '../store/inventories.js';

/** OUTPUT_INVENTORY_FIELDS, in placement's order. */
const OUTPUT_FIELDS = INVENTORY_FIELDS;

function serializeInventory(inv: InventoryRow): Record<string, unknown> {
  return {
    total: inv.total,
    reserved: inv.reserved,
    min_unit: inv.min_unit,
    max_unit: inv.max_unit,
    step_size: inv.step_size,
    allocation_ratio: asFloat(inv.allocation_ratio),
  };
}

async function providerFor(ctx: RequestContext): Promise<ProviderRow> {
  const uuid = ctx.param('uuid');
  const rp = await ctx.store.providers.byUuid(uuid);
  if (!rp) {
    throw new ApiError(
      404,
      `No resource provider with uuid ${uuid} found : No resource provider with uuid ${uuid} found`,
    );
  }
  return rp;
}

/** inventory.get_all_by_resource_provider: every row named by its class (an unknown class id is a 404). */
async function inventoriesOf(ctx: RequestContext, rp: ProviderRow) {
  const rows = await ctx.store.inventories.ofProvider(rp.id);
  const named: { rc: string; inv: InventoryRow }[] = [];
  for (const inv of rows)
    named.push({ rc: await ctx.resourceClasses.nameOf(inv.resource_class_id), inv });
  return named;
}

export const getInventories: Handler = async (ctx) => {
  const rp = await providerFor(ctx);
  const inventories: Record<string, Record<string, unknown>> = {};
  const named = await inventoriesOf(ctx, rp);
  for (const { rc, inv } of named) inventories[rc] = serializeInventory(inv);
  return json(
    ctx,
    { resource_provider_generation: rp.generation, inventories },
    lastModifiedOf(named.map((n) => n.inv)),
  );
};

export const getInventory: Handler = async (ctx) => {
  const rp = await providerFor(ctx);
  const rc = ctx.param('resource_class');
  const found = (await inventoriesOf(ctx, rp)).find((n) => n.rc === rc);
  if (!found) {
    throw new ApiError(404, `No inventory of class ${rc} for ${ctx.param('uuid')}`);
  }
  const body = serializeInventory(found.inv);
  // placement adds the generation only when it is truthy.
  if (rp.generation) body['resource_provider_generation'] = rp.generation;
  return json(ctx, body, lastModifiedOf([found.inv]));
};

// ---- writes ----

/** One inventory of a request body, defaults filled in, values as the client wrote them. */
type RequestInventory = Record<(typeof OUTPUT_FIELDS)[number], PyJson>;

/** A JSON number of the body (int, big int or Python float) as a JS number. */
function numberOf(value: PyJson | undefined): number {
  if (value instanceof PyFloat) return value.value;
  return Number(value);
}

/** A body value echoed as placement echoes the Inventory it built: a float stays a float (`1.0`). */
function echo(value: PyJson): unknown {
  return value instanceof PyFloat ? asFloat(value.value) : value;
}

/** _extract_inventory's defaults: INVENTORY_DEFAULTS, then what the client sent. */
function withDefaults(data: PyDict): RequestInventory {
  const inv: RequestInventory = {
    total: null, // required by every inventory schema
    ...INVENTORY_DEFAULTS,
    allocation_ratio: new PyFloat(INVENTORY_DEFAULTS.allocation_ratio),
  };
  for (const field of OUTPUT_FIELDS) {
    const given = data.get(field);
    if (given !== undefined) inv[field] = given;
  }
  return inv;
}

function fieldsOf(inv: RequestInventory): InventoryFields {
  return {
    total: numberOf(inv.total),
    reserved: numberOf(inv.reserved),
    min_unit: numberOf(inv.min_unit),
    max_unit: numberOf(inv.max_unit),
    step_size: numberOf(inv.step_size),
    allocation_ratio: numberOf(inv.allocation_ratio),
  };
}

/** _serialize_inventory of an Inventory built from the request (so its values are the request's). */
function serializeRequested(inv: RequestInventory): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of OUTPUT_FIELDS) out[field] = echo(inv[field]);
  return out;
}

/** The provider of a write, or the NotFound placement's get_by_uuid raises (a 404 that escapes the handler). */
async function writableProvider(ctx: RequestContext): Promise<ProviderRow> {
  const uuid = ctx.param('uuid');
  const rp = await ctx.store.providers.byUuid(uuid);
  if (!rp) throw new ObjectNotFound(`No resource provider with uuid ${uuid} found`, 'provider');
  return rp;
}

/** The body as placement's extract_json reads it (a 400 otherwise), Python floats kept: a dict. */
function bodyDict(ctx: RequestContext, schema: SchemaObject): PyDict {
  return parseBody(ctx.body, schema) as PyDict;
}

/** The handler's early check of the generation the client sent. */
function requireGeneration(rp: ProviderRow, given: PyJson | undefined): void {
  if (rp.generation === null || numberOf(given) !== rp.generation) {
    throw new ApiError(409, 'resource provider generation conflict', {
      code: ErrorCode.CONCURRENT_UPDATE,
    });
  }
}

const conflict = (detail: string, code?: string) => new ApiError(409, detail, { code });

/**
 * Runs an inventory op that looks classes up by name in one transaction,
 * the request's class cache loaded first (on SQLite the pool's only
 * connection is the transaction's). setInventories reads its classes
 * itself: its callers open the transaction directly.
 */
async function write<T>(ctx: RequestContext, work: (tx: PlacementStore) => Promise<T>): Promise<T> {
  await ctx.resourceClasses.all();
  return ctx.store.transaction(work);
}

/** POST …/inventories: one new class; 201 with its Location. */
export const createInventory: Handler = async (ctx) => {
  const rp = await writableProvider(ctx);
  const data = bodyDict(ctx, POST_INVENTORY_SCHEMA);
  const rc = String(data.get('resource_class'));
  const requested = withDefaults(data);
  const fields = fieldsOf(requested);
  const unable = (err: Error) =>
    badRequest(`Unable to create inventory for resource provider ${rp.uuid}: ${err.message}`);
  let generation: number;
  try {
    checkInventoryCapacity(ctx.version, rp.uuid, [[rc, fields]]);
    ({ generation } = await write(ctx, (tx) => addInventory(tx, ctx, rp, rc, fields)));
  } catch (err) {
    if (err instanceof DuplicateInventory) {
      throw conflict(`Update conflict: ${err.textFor(requested)}`, ErrorCode.CONCURRENT_UPDATE);
    }
    if (err instanceof ProviderConcurrentUpdate) {
      throw conflict(`Update conflict: ${err.message}`, ErrorCode.CONCURRENT_UPDATE);
    }
    if (err instanceof InvalidInventoryCapacity || err instanceof ObjectNotFound) throw unable(err);
    throw err;
  }
  const body = { ...serializeRequested(requested), resource_provider_generation: generation };
  const response = json(ctx, body, new Date(), 201);
  response.headers.push([
    'location',
    ctx.absoluteUrl(`/resource_providers/${rp.uuid}/inventories/${rc}`),
  ]);
  return response;
};

/** PUT …/inventories: the whole set, against the generation the client read. */
export const putInventories: Handler = async (ctx) => {
  const rp = await writableProvider(ctx);
  const data = bodyDict(ctx, PUT_INVENTORY_SCHEMA);
  requireGeneration(rp, data.get('resource_provider_generation'));
  const requested = new Map<string, RequestInventory>();
  for (const [rc, raw] of data.get('inventories') as PyDict) {
    requested.set(rc, withDefaults(raw as PyDict));
  }
  const inventories = new Map([...requested].map(([rc, inv]) => [rc, fieldsOf(inv)]));
  let generation: number;
  try {
    checkInventoryCapacity(ctx.version, rp.uuid, inventories);
    ({ generation } = await ctx.store.transaction((tx) =>
      setInventories(tx, ctx, rp, inventories),
    ));
  } catch (err) {
    if (err instanceof ObjectNotFound) {
      throw badRequest(
        `Unknown resource class in inventory for resource provider ${rp.uuid}: ${err.message}`,
      );
    }
    if (err instanceof InventoryClassNotFound) {
      throw conflict(
        'Race condition detected when setting inventory. No inventory record with resource ' +
          `class for resource provider ${rp.uuid}: ${err.message}`,
      );
    }
    if (err instanceof DuplicateInventory) {
      const sent = requested.get(err.resourceClass);
      const text = sent ? err.textFor(sent) : err.message;
      throw conflict(`update conflict: ${text}`, ErrorCode.CONCURRENT_UPDATE);
    }
    if (err instanceof ProviderConcurrentUpdate) {
      throw conflict(`update conflict: ${err.message}`, ErrorCode.CONCURRENT_UPDATE);
    }
    if (err instanceof InventoryInUse) {
      throw conflict(`update conflict: ${err.message}`, ErrorCode.INVENTORY_INUSE);
    }
    if (err instanceof InvalidInventoryCapacity) {
      throw badRequest(
        `Unable to update inventory for resource provider ${rp.uuid}: ${err.message}`,
      );
    }
    throw err;
  }
  const body: Record<string, Record<string, unknown>> = {};
  for (const [rc, inv] of requested) body[rc] = serializeRequested(inv);
  return json(
    ctx,
    { resource_provider_generation: generation, inventories: body },
    requested.size > 0 ? new Date() : null,
  );
};

/** PUT …/inventories/{resource_class}: one class the provider has, against the client's generation. */
export const putInventory: Handler = async (ctx) => {
  const rp = await writableProvider(ctx);
  const rc = ctx.param('resource_class');
  const data = bodyDict(ctx, BASE_INVENTORY_SCHEMA);
  requireGeneration(rp, data.get('resource_provider_generation'));
  const requested = withDefaults(data);
  const fields = fieldsOf(requested);
  let generation: number;
  try {
    checkInventoryCapacity(ctx.version, rp.uuid, [[rc, fields]]);
    ({ generation } = await write(ctx, (tx) => updateInventory(tx, ctx, rp, rc, fields)));
  } catch (err) {
    if (err instanceof ProviderConcurrentUpdate || err instanceof DuplicateInventory) {
      throw conflict(`update conflict: ${err.message}`, ErrorCode.CONCURRENT_UPDATE);
    }
    if (err instanceof InventoryClassNotFound) {
      throw badRequest(
        `No inventory record with resource class for resource provider ${rp.uuid}: ${err.message}`,
      );
    }
    if (err instanceof InvalidInventoryCapacity) {
      throw badRequest(
        `Unable to update inventory for resource provider ${rp.uuid}: ${err.message}`,
      );
    }
    // An unknown class escapes as placement's NotFound: a 404.
    throw err;
  }
  const body = { ...serializeRequested(requested), resource_provider_generation: generation };
  return json(ctx, body, new Date());
};

/** DELETE …/inventories/{resource_class}: 204, or 409 while allocations use it. */
export const deleteOneInventory: Handler = async (ctx) => {
  const rp = await writableProvider(ctx);
  const rc = ctx.param('resource_class');
  try {
    await write(ctx, (tx) => deleteInventory(tx, ctx, rp, rc));
  } catch (err) {
    if (err instanceof ProviderConcurrentUpdate || err instanceof InventoryInUse) {
      throw conflict(
        `Unable to delete inventory of class ${rc}: ${err.message}`,
        ErrorCode.CONCURRENT_UPDATE,
      );
    }
    if (err instanceof NoInventoryToDelete || err instanceof ObjectNotFound) {
      throw new ApiError(404, `No inventory of class ${rc} found for delete: ${err.message}`);
    }
    throw err;
  }
  return empty(204);
};

/** DELETE …/inventories (1.5+): every class, 204, or 409 while allocations use any. */
export const deleteInventories: Handler = async (ctx) => {
  const rp = await writableProvider(ctx);
  try {
    await ctx.store.transaction((tx) => setInventories(tx, ctx, rp, new Map()));
  } catch (err) {
    if (err instanceof ProviderConcurrentUpdate) {
      throw conflict(
        `Unable to delete inventory for resource provider ${rp.uuid} because the inventory ` +
          'was updated by another process. Please retry your request.',
        ErrorCode.CONCURRENT_UPDATE,
      );
    }
    if (err instanceof InventoryInUse) throw conflict(err.message, ErrorCode.INVENTORY_INUSE);
    throw err;
  }
  return empty(204);
};
