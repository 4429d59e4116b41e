/** GET /resource_providers/{uuid}/inventories[/{resource_class}]. */
import type { RequestContext } from '../context.js';
import { ApiError } from '../errors.js';
import { json, lastModifiedOf, type Handler } from '../response.js';
import type { InventoryRow, ProviderRow } from '../store/index.js';

function serializeInventory(inv: InventoryRow): Record<string, number> {
  return {
    total: inv.total,
    reserved: inv.reserved,
    min_unit: inv.min_unit,
    max_unit: inv.max_unit,
    step_size: inv.step_size,
    allocation_ratio: inv.allocation_ratio,
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
  const inventories: Record<string, Record<string, number>> = {};
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
  const body: Record<string, number | null> = serializeInventory(found.inv);
  // placement adds the generation only when it is truthy.
  if (rp.generation) body['resource_provider_generation'] = rp.generation;
  return json(ctx, body, lastModifiedOf([found.inv]));
};
