/** GET /resource_providers/{uuid}/aggregates (1.1; the generation from 1.19). */
import { json, type Handler } from '../response.js';
import { providerOrNotFound } from './resource-providers.js';

export const getAggregates: Handler = async (ctx) => {
  const rp = await providerOrNotFound(ctx, ctx.param('uuid'));
  const body: Record<string, unknown> = { aggregates: await ctx.store.aggregates.uuidsOfProvider(rp.id) };
  if (ctx.version.atLeast('1.19')) body['resource_provider_generation'] = rp.generation;
  return json(ctx, body, new Date());
};
