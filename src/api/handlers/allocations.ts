/** GET /resource_providers/{uuid}/allocations and GET /allocations/{consumer_uuid}. */
import { ApiError } from '../errors.js';
import { json, lastModifiedOf, type Handler } from '../response.js';

export const listForResourceProvider: Handler = async (ctx) => {
  const uuid = ctx.param('uuid');
  const rp = await ctx.store.providers.byUuid(uuid);
  if (!rp) {
    throw new ApiError(
      404,
      `Resource provider '${uuid}' not found: No resource provider with uuid ${uuid} found`,
    );
  }
  const rows = await ctx.store.allocations.ofProvider(rp.id);
  const allocations: Record<
    string,
    { resources: Record<string, number>; consumer_generation?: number | null }
  > = {};
  for (const a of rows) {
    const entry = (allocations[a.consumer_uuid] ??= { resources: {} });
    entry.resources[await ctx.resourceClasses.nameOf(a.resource_class_id)] = a.used;
    if (ctx.version.atLeast('1.28')) entry.consumer_generation = a.consumer_generation;
  }
  return json(
    ctx,
    { allocations, resource_provider_generation: rp.generation },
    lastModifiedOf(rows) ?? new Date(),
  );
};

export const listForConsumer: Handler = async (ctx) => {
  const rows = await ctx.store.allocations.ofConsumer(ctx.param('consumer_uuid'));
  const allocations: Record<
    string,
    { resources: Record<string, number>; generation: number | null }
  > = {};
  for (const a of rows) {
    const entry = (allocations[a.resource_provider_uuid] ??= {
      resources: {},
      generation: a.resource_provider_generation,
    });
    entry.resources[await ctx.resourceClasses.nameOf(a.resource_class_id)] = a.used;
  }
  const body: Record<string, unknown> = { allocations };
  const first = rows[0];
  if (first && ctx.version.atLeast('1.12')) {
    body['project_id'] = first.project_external_id;
    body['user_id'] = first.user_external_id;
    if (ctx.version.atLeast('1.28')) body['consumer_generation'] = first.consumer_generation;
    if (ctx.version.atLeast('1.38')) {
      body['consumer_type'] = await ctx.consumerTypeName(first.consumer_type_id);
    }
  }
  return json(ctx, body, lastModifiedOf(rows) ?? new Date());
};
