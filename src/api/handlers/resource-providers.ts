/** GET /resource_providers and GET /resource_providers/{uuid}. */
import { readJsonBody } from '../body.js';
import { ObjectNotFound, type RequestContext } from '../context.js';
import { badRequest } from '../errors.js';
import { createProvider, deleteProvider, updateProvider } from '../ops/resource-providers.js';
import { normalizeMemberOfParams, normalizeResources, normalizeTraitsParams } from '../params.js';
import { validateQuery } from '../query.js';
import { searchProviders, type ProviderQuery } from '../provider-search.js';
import { empty, json, lastModifiedOf, parseDbTime, type Handler } from '../response.js';
import {
  createProviderSchema,
  listProvidersSchema,
  updateProviderSchema,
} from '../schemas/resource-providers.js';
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

type ProviderView = Pick<
  ProviderRow,
  'uuid' | 'name' | 'generation' | 'parent_provider_uuid' | 'root_provider_uuid'
>;

function serializeProvider(ctx: RequestContext, rp: ProviderView): Record<string, unknown> {
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

/** POST /resource_providers: 201 with a Location before 1.20, then 200 with the provider too. */
export const createResourceProvider: Handler = async (ctx) => {
  const data = readJsonBody(ctx.body, createProviderSchema(ctx.version)) as {
    name: string;
    uuid?: string;
    parent_provider_uuid?: string | null;
  };
  const rp = await createProvider(ctx, {
    name: data.name,
    uuid: data.uuid,
    parentUuid: data.parent_provider_uuid,
  });
  const location: [string, string] = ['location', ctx.absoluteUrl(providerUrl(rp.uuid))];
  if (!ctx.version.atLeast('1.20')) return empty(201, [location]);
  // The new object has no timestamps of its own: placement answers "now".
  const response = json(ctx, serializeProvider(ctx, rp), new Date());
  response.headers.push(location);
  return response;
};

/**
 * PUT /resource_providers/{uuid}. Its last-modified is the updated_at the
 * provider had before this change (none when it had none), as placement's.
 */
export const updateResourceProvider: Handler = async (ctx) => {
  const rp = await providerOrNotFound(ctx, ctx.param('uuid'));
  const data = readJsonBody(ctx.body, updateProviderSchema(ctx.version)) as {
    name: string;
    parent_provider_uuid?: string | null;
  };
  const updated = await updateProvider(
    ctx,
    rp,
    {
      name: data.name,
      parentUuid: 'parent_provider_uuid' in data ? data.parent_provider_uuid : undefined,
    },
    ctx.version.atLeast('1.37'),
  );
  return json(ctx, serializeProvider(ctx, updated), parseDbTime(rp.updated_at));
};

/** DELETE /resource_providers/{uuid}. */
export const deleteResourceProvider: Handler = async (ctx) => {
  await deleteProvider(ctx, ctx.param('uuid'));
  return empty(204);
};
