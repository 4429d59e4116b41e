/**
 * Provider search, as placement's research_context runs it: the filters of
 * GET /resource_providers (name, uuid, in_tree, required/forbidden traits,
 * member_of, resources), each narrowing a set of provider ids, checked in
 * placement's order. /allocation_candidates builds on the same sets.
 *
 * An unknown trait or resource class is thrown as ObjectNotFound (kind
 * `trait` or `resource_class`); each route words its own 400.
 */
import type { RequestContext } from './context.js';
import type { ProviderRow } from './store/index.js';

export interface NameGroups {
  /** Every inner list is one "any of" group; all groups must match. */
  required: string[][];
  /** None of these may match. */
  forbidden: string[];
}

export interface ProviderQuery {
  name?: string;
  uuid?: string;
  /** Any provider of the tree this provider is in. */
  inTree?: string;
  traits?: NameGroups;
  memberOf?: NameGroups;
  /** Capacity for each amount of each class. */
  resources?: [string, number][];
}

interface Narrowing {
  ids: Set<number>;
  keep: boolean;
}

/** research_context.provider_ids_matching_aggregates: ids of providers in every group. */
export async function providersInAggregates(
  ctx: RequestContext,
  groups: string[][],
): Promise<Set<number>> {
  const known = await ctx.store.aggregates.idsOf([...new Set(groups.flat())]);
  const idGroups: number[][] = [];
  for (const group of groups) {
    const ids = group.filter((u) => known.has(u)).map((u) => known.get(u)!);
    if (ids.length === 0) return new Set();
    idGroups.push(ids);
  }
  return ctx.store.search.inAggregateGroups(idGroups);
}

async function traitIds(ctx: RequestContext, names: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const t of names) ids.push(await ctx.traits.idOf(t));
  return ids;
}

/**
 * The narrowings of a query, in placement's order; null when one of them
 * already matches nothing (later filters are then not even validated, so
 * an unknown trait after an unknown in_tree is no error).
 */
async function narrowings(ctx: RequestContext, q: ProviderQuery): Promise<Narrowing[] | null> {
  const found: Narrowing[] = [];
  if (q.traits && q.traits.required.length > 0) {
    const groups: number[][] = [];
    for (const any of q.traits.required) groups.push(await traitIds(ctx, any));
    const ids = await ctx.store.search.withTraitGroups(groups);
    if (ids.size === 0) return null;
    found.push({ ids, keep: true });
  }
  if (q.traits && q.traits.forbidden.length > 0) {
    const ids = await ctx.store.search.withAnyTrait(await traitIds(ctx, q.traits.forbidden));
    if (ids.size > 0) found.push({ ids, keep: false });
  }
  if (q.memberOf && q.memberOf.required.length > 0) {
    const ids = await providersInAggregates(ctx, q.memberOf.required);
    if (ids.size === 0) return null;
    found.push({ ids, keep: true });
  }
  if (q.memberOf && q.memberOf.forbidden.length > 0) {
    const ids = await providersInAggregates(ctx, [q.memberOf.forbidden]);
    if (ids.size > 0) found.push({ ids, keep: false });
  }
  for (const [rc, amount] of q.resources ?? []) {
    const rcId = await ctx.resourceClasses.idOf(rc);
    found.push({ ids: await ctx.store.search.withCapacity(rcId, amount), keep: true });
  }
  return found;
}

/** The providers matching every filter of `q`. */
export async function searchProviders(
  ctx: RequestContext,
  q: ProviderQuery,
): Promise<ProviderRow[]> {
  let rootId: number | undefined;
  if (q.inTree) {
    const tree = await ctx.store.providers.treeIds(q.inTree);
    if (!tree) return [];
    rootId = tree.rootId;
  }
  const filters = await narrowings(ctx, q);
  if (filters === null) return [];
  let rows = await ctx.store.providers.list({ name: q.name, uuid: q.uuid, rootId });
  for (const f of filters) rows = rows.filter((r) => f.ids.has(r.id) === f.keep);
  return rows;
}
