/** GET /resource_providers/{uuid}/usages and GET /usages. */
import { ApiError } from '../errors.js';
import { validateQuery } from '../query.js';
import { json, type Handler } from '../response.js';
import { totalUsagesSchema } from '../schemas/usages.js';

export const listProviderUsages: Handler = async (ctx) => {
  const uuid = ctx.param('uuid');
  const rp = await ctx.store.providers.byUuid(uuid);
  if (!rp) {
    throw new ApiError(
      404,
      `No resource provider with uuid ${uuid} found: No resource provider with uuid ${uuid} found`,
    );
  }
  const usages: Record<string, number> = {};
  for (const u of await ctx.store.usages.ofProvider(uuid)) {
    usages[await ctx.resourceClasses.nameOf(u.resource_class_id)] = u.used;
  }
  return json(ctx, { resource_provider_generation: rp.generation, usages }, new Date());
};

export const getTotalUsages: Handler = async (ctx) => {
  validateQuery(ctx.query, totalUsagesSchema(ctx.version));
  const projectId = ctx.query.get('project_id')!;
  const userId = ctx.query.get('user_id') || undefined;
  const consumerType = ctx.query.get('consumer_type');
  if (!ctx.version.atLeast('1.38')) {
    const usages: Record<string, number> = {};
    for (const u of await ctx.store.usages.total(projectId, userId)) {
      usages[await ctx.resourceClasses.nameOf(u.resource_class_id)] = u.used;
    }
    return json(ctx, { usages }, new Date());
  }
  const usages: Record<string, Record<string, number>> = {};
  if (consumerType === 'all' || consumerType === 'unknown') {
    const untyped = consumerType === 'unknown';
    const rows = await ctx.store.usages.total(projectId, userId, untyped);
    const count = await ctx.store.usages.consumerCount(projectId, userId, untyped);
    for (const u of rows) {
      const group = (usages[consumerType] ??= {});
      group[await ctx.resourceClasses.nameOf(u.resource_class_id)] = u.used;
      group['consumer_count'] = count;
    }
  } else {
    const { rows, counts } = await ctx.store.usages.byConsumerType(
      projectId,
      userId,
      consumerType || undefined,
    );
    for (const u of rows) {
      const group = (usages[u.consumer_type ?? 'unknown'] ??= {});
      group[await ctx.resourceClasses.nameOf(u.resource_class_id)] = u.used;
      group['consumer_count'] = counts.get(u.consumer_type) ?? 0;
    }
  }
  return json(ctx, { usages }, new Date());
};
