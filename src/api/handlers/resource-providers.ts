/** GET /resource_providers and GET /resource_providers/{uuid}. */
import { ObjectNotFound, type RequestContext } from '../context.js';
import { badRequest } from '../errors.js';
import { normalizeMemberOfParams, normalizeResources, normalizeTraitsParams } from '../params.js';
import { validateQuery } from '../query.js';
import { json, lastModifiedOf, type Handler } from '../response.js';
import { listProvidersSchema } from '../schemas.js';
import type { ProviderRow } from '../store.js';

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
  const rp = await ctx.store.providerByUuid(uuid);
  if (!rp) throw new ObjectNotFound(`No resource provider with uuid ${uuid} found`, 'provider');
  return rp;
}

export const getResourceProvider: Handler = async (ctx) => {
  const rp = await providerOrNotFound(ctx, ctx.param('uuid'));
  return json(ctx, serializeProvider(ctx, rp), lastModifiedOf([rp]) ?? new Date());
};

function intersect(rows: ProviderRow[], ids: Set<number>, keep: boolean): ProviderRow[] {
  return rows.filter((r) => ids.has(r.id) === keep);
}

/**
 * The providers matching the filters, checked in placement's order: a
 * filter that matches nothing ends the search before later filters are
 * even validated (so an unknown trait after an unknown in_tree is no error).
 */
async function findProviders(ctx: RequestContext): Promise<ProviderRow[]> {
  const q = ctx.query;
  const v = ctx.version;
  const memberOf = q.has('member_of') ? normalizeMemberOfParams(q, v) : undefined;
  const traits = q.has('required') ? normalizeTraitsParams(q, v) : undefined;
  const name = q.get('name');
  const uuid = q.get('uuid');
  const inTree = q.get('in_tree');
  const resources = q.has('resources') ? normalizeResources(q.get('resources')!) : undefined;

  let rootId: number | undefined;
  if (inTree) {
    const tree = await ctx.store.providerTreeIds(inTree);
    if (!tree) return [];
    rootId = tree.rootId;
  }
  const filters: { ids: Set<number>; keep: boolean }[] = [];
  const traitError = (err: unknown) => {
    if (err instanceof ObjectNotFound) {
      return badRequest(`Invalid trait(s) in "required" parameter: ${err.message}`);
    }
    return err;
  };
  if (traits && traits.required.length > 0) {
    let groups: number[][];
    try {
      groups = [];
      for (const any of traits.required) {
        const ids: number[] = [];
        for (const t of any) ids.push(await ctx.traits.idOf(t));
        groups.push(ids);
      }
    } catch (err) {
      throw traitError(err);
    }
    const ids = await ctx.store.providerIdsWithTraitGroups(groups);
    if (ids.size === 0) return [];
    filters.push({ ids, keep: true });
  }
  if (traits && traits.forbidden.length > 0) {
    let traitIds: number[];
    try {
      traitIds = [];
      for (const t of traits.forbidden) traitIds.push(await ctx.traits.idOf(t));
    } catch (err) {
      throw traitError(err);
    }
    const ids = await ctx.store.providerIdsWithAnyTrait(traitIds);
    if (ids.size > 0) filters.push({ ids, keep: false });
  }
  if (memberOf && memberOf.required.length > 0) {
    const ids = await providersInAggregates(ctx, memberOf.required);
    if (ids.size === 0) return [];
    filters.push({ ids, keep: true });
  }
  if (memberOf && memberOf.forbidden.length > 0) {
    const ids = await providersInAggregates(ctx, [memberOf.forbidden]);
    if (ids.size > 0) filters.push({ ids, keep: false });
  }
  for (const [rc, amount] of resources ?? []) {
    let rcId: number;
    try {
      rcId = await ctx.resourceClasses.idOf(rc);
    } catch (err) {
      if (err instanceof ObjectNotFound) {
        throw badRequest(`Invalid resource class in resources parameter: ${err.message}`);
      }
      throw err;
    }
    filters.push({ ids: await ctx.store.providerIdsWithCapacity(rcId, amount), keep: true });
  }
  let rows = await ctx.store.listProviders({
    name: name || undefined,
    uuid: uuid || undefined,
    rootId,
  });
  for (const f of filters) rows = intersect(rows, f.ids, f.keep);
  return rows;
}

/** research_context.provider_ids_matching_aggregates. */
async function providersInAggregates(
  ctx: RequestContext,
  groups: string[][],
): Promise<Set<number>> {
  const known = await ctx.store.aggregateIds([...new Set(groups.flat())]);
  const idGroups: number[][] = [];
  for (const group of groups) {
    const ids = group.filter((u) => known.has(u)).map((u) => known.get(u)!);
    if (ids.length === 0) return new Set();
    idGroups.push(ids);
  }
  return ctx.store.providerIdsInAggregateGroups(idGroups);
}

export const listResourceProviders: Handler = async (ctx) => {
  validateQuery(ctx.query, listProvidersSchema(ctx.version));
  const rows = await findProviders(ctx);
  return json(
    ctx,
    { resource_providers: rows.map((rp) => serializeProvider(ctx, rp)) },
    lastModifiedOf(rows) ?? new Date(),
  );
};
