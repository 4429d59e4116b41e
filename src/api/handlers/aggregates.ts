/** GET and PUT /resource_providers/{uuid}/aggregates (1.1; the generation from 1.19). */
import { readJsonBody } from '../body.js';
import type { RequestContext } from '../context.js';
import { setAggregates } from '../ops/aggregates.js';
import { json, type Handler } from '../response.js';
import { putAggregatesSchema } from '../schemas/aggregates.js';
import { providerOrNotFound } from './resource-providers.js';

/** placement's _send_aggregates: no record of when associations changed, so "now". */
function sendAggregates(ctx: RequestContext, aggregates: string[], generation: number | null) {
  const body: Record<string, unknown> = { aggregates };
  if (ctx.version.atLeast('1.19')) body['resource_provider_generation'] = generation;
  return json(ctx, body, new Date());
}

export const getAggregates: Handler = async (ctx) => {
  const rp = await providerOrNotFound(ctx, ctx.param('uuid'));
  return sendAggregates(ctx, await ctx.store.aggregates.uuidsOfProvider(rp.id), rp.generation);
};

/** PUT: a bare list before 1.19, then {aggregates, resource_provider_generation}. */
export const updateAggregates: Handler = async (ctx) => {
  const rp = await providerOrNotFound(ctx, ctx.param('uuid'));
  const withGeneration = ctx.version.atLeast('1.19');
  const data = readJsonBody(ctx.body, putAggregatesSchema(ctx.version));
  let uuids: string[];
  let generation: number | undefined;
  if (withGeneration) {
    const body = data as { aggregates: string[]; resource_provider_generation: number };
    uuids = body.aggregates;
    generation = body.resource_provider_generation;
  } else {
    uuids = data as string[];
  }
  const after = await setAggregates(ctx, rp, uuids, generation);
  return sendAggregates(ctx, uuids, after);
};
