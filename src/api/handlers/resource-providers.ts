/** GET /resource_providers and GET /resource_providers/{uuid}. */
import { ObjectNotFound, type RequestContext } from '../context.js';
import { badRequest } from '../errors.js';
import { normalizeMemberOfParams, normalizeResources, normalizeTraitsParams } from '../params.js';
import { validateQuery } from '../query.js';
import { searchProviders, type ProviderQuery } from '../provider-search.js';
import { json, lastModifiedOf, type Handler } from '../response.js';
import { listProvidersSchema } from '../schemas/resource-providers.js';
import type { ProviderRow } from '../store/index.js';

/** The URL of a provider (placement builds them relative to its mount point). */
export function providerUrl(uuid: string): string {
  return `/resource_providers/${uuid}`;
}

function links(ctx: RequestContext, uuid: string) {
  const url = providerUrl(uuid);
  const rels = ['inventories', 'usages'];
  if (ctx.version.atLeast('1.1')) rels.push('aggregates');
  if (ctx.version.atLeast('1.6')) rels.push('traits');
  if (ctx.version.atLeast('1.11')) rels.push('allocations');
  return [{ rel: 'self', href: url }, ...rels.map((rel) => ({ rel, href: `${url}/${rel}` }))];
}

function serializeProvider(ctx: RequestContext, rp: ProviderRow): Record<string, unknown> {
  const data: Record<string, unknown> = {
    uuid: rp.uuid,
    name: rp.name,
    generation: rp.generation,
    links: links(ctx, rp.uuid),
  };
  if (ctx.version.atLeast('1.14')) {
    data['parent_provider_uuid'] = rp.parent_provider_uuid;
    data['root_provider_uuid'] = rp.root_provider_uuid;
  }
  return data;
}

/**
 * ResourceProvider.get_by_uuid: the NotFound it raises escapes the handler
 * unless the caller turns it into its own message.
 */
export async function providerOrNotFound(ctx: RequestContext, uuid: string): Promise<ProviderRow> {
  const rp = await ctx.store.providers.byUuid(uuid);
  if (!rp) throw new ObjectNotFound(`No resource provider with uuid ${uuid} found`, 'provider');
  return rp;
}

export const getResourceProvider: Handler = async (ctx) => {
  const rp = await providerOrNotFound(ctx, ctx.param('uuid'));
  return json(ctx, serializeProvider(ctx, rp), lastModifiedOf([rp]) ?? new Date());
};

/**
 * The query's filters, parsed in placement's order (member_of, required,
 * then resources) so the first malformed one is the one reported.
 */
function providerQuery(ctx: RequestContext): ProviderQuery {
  const q = ctx.query;
  const v = ctx.version;
  const memberOf = q.has('member_of') ? normalizeMemberOfParams(q, v) : undefined;
  const traits = q.has('required') ? normalizeTraitsParams(q, v) : undefined;
  const resources = q.has('resources') ? normalizeResources(q.get('resources')!) : undefined;
  return {
    name: q.get('name') || undefined,
    uuid: q.get('uuid') || undefined,
    inTree: q.get('in_tree') || undefined,
    memberOf,
    traits,
    resources: resources ? [...resources] : undefined,
  };
}

/** The route's words for a trait or resource class that does not exist. */
function unknownName(err: unknown): unknown {
  if (!(err instanceof ObjectNotFound)) return err;
  if (err.kind === 'trait') {
    return badRequest(`Invalid trait(s) in "required" parameter: ${err.message}`);
  }
  if (err.kind === 'resource_class') {
    return badRequest(`Invalid resource class in resources parameter: ${err.message}`);
  }
  return err;
}

export const listResourceProviders: Handler = async (ctx) => {
  validateQuery(ctx.query, listProvidersSchema(ctx.version));
  let rows: ProviderRow[];
  try {
    rows = await searchProviders(ctx, providerQuery(ctx));
  } catch (err) {
    throw unknownName(err);
  }
  return json(
    ctx,
    { resource_providers: rows.map((rp) => serializeProvider(ctx, rp)) },
    lastModifiedOf(rows) ?? new Date(),
  );
};
