/**
 * The search of one request group, as placement's research_context runs
 * it: the providers with capacity for each class, narrowed by traits,
 * aggregates, in_tree and root_required; then the group's allocation
 * requests — one per provider for a suffixed group (or where there are
 * neither trees nor sharing providers), the combinations within each tree
 * and its sharing providers for the unsuffixed one.
 */
import { type RequestContext } from '../context.js';
import { providersInAggregates } from '../provider-search.js';
import type { ProviderAndRoot } from '../store/candidates.js';
import { Candidates } from './provider-set.js';
import {
  capacityKey,
  type AllocationRequest,
  type ProviderSummary,
  type RequestResource,
} from './model.js';
import type { RequestGroup, RequestWide } from './request.js';
import type { PlacementSettings } from '../placement-settings.js';

/** placement's ResourceProviderNotFound inside the search: the answer is empty, not an error. */
export class NoCandidates extends Error {}

const SHARING_TRAIT = 'MISC_SHARES_VIA_AGGREGATE';

/** What the whole request shares: its request-wide parameters and the summaries built so far. */
export class WideSearch {
  /** Root providers root_required allows; null when it was not given. */
  anchorRootIds: Set<number> | null = null;
  readonly summaries = new Map<number, ProviderSummary>();
  /** Classes asked for by more than one group. */
  readonly multiGroupClasses = new Set<string>();
  readonly parentUuidByUuid = new Map<string, string | null>();
  /** Capacity, usage and max_unit by provider and class (capacityKey). */
  readonly capacities = new Map<string, ProviderSummary['resources'][number]>();
  /** Each summarised provider's traits, as a set. */
  readonly traitSets = new Map<number, Set<string>>();
  /** The summarised providers that share their inventory (MISC_SHARES_VIA_AGGREGATE). */
  readonly sharingIds = new Set<number>();

  private constructor(
    readonly ctx: RequestContext,
    readonly wide: RequestWide,
    readonly nestedAware: boolean,
    readonly hasTrees: boolean,
    readonly settings: PlacementSettings,
  ) {}

  static async open(
    ctx: RequestContext,
    wide: RequestWide,
    nestedAware: boolean,
    settings: PlacementSettings,
    /** Whether any provider has a parent, when the caller started that read already. */
    hasTrees: Promise<boolean> = ctx.store.candidates.hasTrees(),
  ): Promise<WideSearch> {
    const w = new WideSearch(ctx, wide, nestedAware, await hasTrees, settings);
    const required = wide.anchorRequired ?? new Set<string>();
    const forbidden = wide.anchorForbidden ?? new Set<string>();
    if (required.size > 0 || forbidden.size > 0) {
      const requiredIds = await idsOf(ctx, required);
      const forbiddenIds = await idsOf(ctx, forbidden);
      w.anchorRootIds = await ctx.store.candidates.rootsWithTraits(requiredIds, forbiddenIds);
      if (w.anchorRootIds.size === 0) throw new NoCandidates();
    }
    return w;
  }

  inFilteredAnchors(rootId: number): boolean {
    return this.anchorRootIds === null || this.anchorRootIds.has(rootId);
  }
}

async function idsOf(ctx: RequestContext, names: Iterable<string>): Promise<number[]> {
  const ids: number[] = [];
  for (const name of names) ids.push(await ctx.traits.idOf(name));
  return ids;
}

/** The sharing providers of the cloud: every provider with MISC_SHARES_VIA_AGGREGATE. */
export async function sharingProviders(ctx: RequestContext): Promise<Set<number>> {
  return ctx.store.candidates.withTrait(await ctx.traits.idOf(SHARING_TRAIT));
}

/** One group's search (placement's RequestGroupSearchContext). */
export class GroupSearch {
  /** Amount by resource class id, in the group's order. */
  readonly resources = new Map<number, number>();
  readonly classNames = new Map<number, string>();
  rpsInAggs = new Set<number>();
  readonly requiredTraits: Set<number>[] = [];
  readonly forbiddenTraits = new Map<string, number>();
  treeRootId: number | undefined;
  readonly withResource = new Map<number, ProviderAndRoot[]>();
  /** The group's trait reads, started before the search reached it (startTraitReads). */
  traitReads?: TraitReads;

  private constructor(
    readonly ctx: RequestContext,
    readonly group: RequestGroup,
    readonly hasTrees: boolean,
    /** Shared by every group of the request, and narrowed in place as placement narrows it. */
    private readonly sharing: Set<number>,
  ) {}

  /**
   * Looks up what the group names and finds the providers with capacity,
   * in placement's order; NoCandidates as soon as one part matches nothing.
   */
  static async open(
    ctx: RequestContext,
    group: RequestGroup,
    hasTrees: boolean,
    sharing: Set<number>,
    /** The group's capacity query, started earlier by prefetchCapacity. */
    prefetched?: Promise<CapacityByClass>,
    /** Its trait reads, started earlier by startTraitReads. */
    traitReads: TraitReads = startTraitReads(ctx, group, hasTrees, sharing),
  ): Promise<GroupSearch> {
    const g = new GroupSearch(ctx, group, hasTrees, sharing);
    g.traitReads = traitReads;
    for (const [name, amount] of group.resources) {
      const id = await ctx.resourceClasses.idOf(name);
      g.resources.set(id, amount);
      g.classNames.set(id, name);
    }
    // Without in_tree the capacity query needs nothing found before it: it
    // runs beside the aggregates' while the names are checked (or was
    // started before the earlier groups' searches); its answers are still
    // looked at in placement's order.
    const capacity =
      group.inTree === undefined
        ? (prefetched ?? ctx.store.candidates.withResources([...g.resources], { flat: !hasTrees }))
        : undefined;
    // Only looked at after what comes before it has passed.
    capacity?.catch(() => undefined);
    if (group.memberOf.length > 0) {
      g.rpsInAggs = await providersInAggregates(ctx, group.memberOf);
      if (g.rpsInAggs.size === 0) throw new NoCandidates();
    }
    // A trait name placement does not know fails only now, after the aggregates passed.
    for (const ids of await traitReads.requiredIds) g.requiredTraits.push(new Set(ids));
    const forbiddenIds = await traitReads.forbiddenIds;
    [...group.forbiddenTraits].forEach((name, i) => g.forbiddenTraits.set(name, forbiddenIds[i]!));
    if (group.inTree !== undefined) {
      const tree = await ctx.store.providers.treeIds(group.inTree);
      if (!tree) throw new NoCandidates();
      g.treeRootId = tree.rootId;
    }
    // One query for every class; it cannot fail but on the connection, so
    // checking the classes in the group's order afterwards is placement's order.
    const found = await (capacity ??
      ctx.store.candidates.withResources([...g.resources], {
        treeRootId: g.treeRootId,
        flat: !hasTrees,
      }));
    for (const id of g.resources.keys()) {
      const providers = found.get(id)!;
      if (providers.length === 0) throw new NoCandidates();
      g.withResource.set(id, providers);
    }
    return g;
  }

  get suffix(): string {
    return this.group.suffix;
  }

  /** The sharing providers still in the search (narrowed by earlier groups' aggregates). */
  get sharingLeft(): ReadonlySet<number> {
    return this.sharing;
  }

  get existsSharing(): boolean {
    return this.sharing.size > 0;
  }

  /**
   * The sharing providers (in the group's aggregates, when it names some)
   * with capacity for the class. Narrowing the shared set is placement's
   * behaviour too: later groups see only sharing providers in this one's aggregates.
   */
  sharedCapacity(classId: number): Set<number> {
    if (this.rpsInAggs.size > 0) {
      for (const id of this.sharing) if (!this.rpsInAggs.has(id)) this.sharing.delete(id);
    }
    if (this.sharing.size === 0) return new Set();
    const out = new Set<number>();
    for (const [id] of this.withResource.get(classId) ?? []) if (this.sharing.has(id)) out.add(id);
    return out;
  }
}

type CapacityByClass = Awaited<ReturnType<RequestContext['store']['candidates']['withResources']>>;

/**
 * A group's trait lookups and the reads that need only them, started
 * before the search reaches the group (they need nothing the groups ahead
 * of it find). Each promise is only looked at where placement's order
 * reaches it: a failure (a trait name placement does not know) surfaces
 * there, not here. A read is undefined where the group's path does not use it.
 */
export interface TraitReads {
  requiredIds: Promise<number[][]>;
  forbiddenIds: Promise<number[]>;
  /** Single-provider path: providers with every required trait group (null: none required). */
  withAll?: Promise<Set<number>> | null;
  /** Single-provider path: providers with a forbidden trait (null: none forbidden). */
  withForbidden?: Promise<Set<number>> | null;
  /** Tree path: providers with any of the required traits. */
  anyRequired?: Promise<Set<number>>;
}

/**
 * Starts a group's TraitReads, for the path candidatesForGroup will take.
 * That choice depends on whether sharing providers are left: the shared set
 * narrows as earlier groups are searched, so a read started for the
 * tree path may go unused (the single-provider path then reads its own).
 */
export function startTraitReads(
  ctx: RequestContext,
  group: RequestGroup,
  hasTrees: boolean,
  sharing: ReadonlySet<number>,
): TraitReads {
  const quiet = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => undefined);
    return p;
  };
  const requiredIds = quiet(Promise.all(group.requiredTraits.map((any) => idsOf(ctx, any))));
  const forbiddenIds = quiet(idsOf(ctx, group.forbiddenTraits));
  const store = ctx.store.search;
  if (singleProviderPath(group, hasTrees, sharing)) {
    return {
      requiredIds,
      forbiddenIds,
      withAll:
        group.requiredTraits.length > 0
          ? quiet(requiredIds.then((ids) => store.withTraitGroups(ids)))
          : null,
      withForbidden:
        group.forbiddenTraits.size > 0
          ? quiet(forbiddenIds.then((ids) => store.withAnyTrait(ids)))
          : null,
    };
  }
  return {
    requiredIds,
    forbiddenIds,
    anyRequired:
      group.requiredTraits.length > 0
        ? quiet(requiredIds.then((ids) => store.withAnyTrait([...new Set(ids.flat())])))
        : undefined,
  };
}

/** Whether a group's requests are one provider each (else combinations within trees). */
function singleProviderPath(
  group: RequestGroup,
  hasTrees: boolean,
  sharing: ReadonlySet<number>,
): boolean {
  return group.useSameProvider || (sharing.size === 0 && !hasTrees);
}

/**
 * A group's capacity query, started as soon as the request is read,
 * before the request-wide context and the groups ahead of it are searched
 * (it needs nothing they find: round trips off the critical path);
 * undefined when the group cannot have one yet — it has an in_tree. A
 * class the cache does not know, or a failure of the query, is only seen
 * by the GroupSearch that awaits it (which looks the names up in
 * placement's order first), if the search gets that far.
 */
export function prefetchCapacity(
  ctx: RequestContext,
  group: RequestGroup,
  hasTrees: Promise<boolean>,
): Promise<CapacityByClass> | undefined {
  if (group.inTree !== undefined) return undefined;
  const query = (async () => {
    const amounts: [number, number][] = [];
    for (const [name, amount] of group.resources) {
      amounts.push([await ctx.resourceClasses.idOf(name), amount]);
    }
    return ctx.store.candidates.withResources(amounts, { flat: !(await hasTrees) });
  })();
  query.catch(() => undefined);
  return query;
}

/** The group's allocation requests (AllocationCandidates._get_by_one_request). */
export async function candidatesForGroup(
  g: GroupSearch,
  w: WideSearch,
): Promise<AllocationRequest[]> {
  if (!singleProviderPath(g.group, g.hasTrees, g.sharingLeft)) {
    if (g.requiredTraits.length > 0) {
      const withAny = await (g.traitReads?.anyRequired ??
        g.ctx.store.search.withAnyTrait([...new Set(g.requiredTraits.flatMap((s) => [...s]))]));
      if (withAny.size === 0) return [];
    }
    return multipleProviderRequests(g, w, await treesMatchingAll(g, w));
  }
  return singleProviderRequests(g, w, await providersMatching(g));
}

/**
 * The providers that pass the group's trait and aggregate filters: null
 * when a filter matched nothing; an empty set when there was nothing to
 * filter by. The second set is the providers the forbidden ones exclude.
 */
async function traitAndAggregateFilter(g: GroupSearch): Promise<[Set<number>, Set<number>] | null> {
  const store = g.ctx.store.search;
  // The three reads side by side; their sets are combined in placement's order.
  const reads = g.traitReads;
  const [withTraits, badAggs, badTraits] = await Promise.all([
    reads?.withAll !== undefined
      ? reads.withAll
      : g.requiredTraits.length > 0
        ? store.withTraitGroups(g.requiredTraits.map((s) => [...s]))
        : null,
    g.group.forbiddenAggs.size > 0
      ? providersInAggregates(g.ctx, [[...g.group.forbiddenAggs]])
      : null,
    reads?.withForbidden !== undefined
      ? reads.withForbidden
      : g.forbiddenTraits.size > 0
        ? store.withAnyTrait([...g.forbiddenTraits.values()])
        : null,
  ]);
  let filtered = new Set<number>();
  if (withTraits !== null) {
    filtered = withTraits;
    if (filtered.size === 0) return null;
  }
  if (g.group.memberOf.length > 0) {
    filtered =
      filtered.size > 0
        ? new Set([...filtered].filter((id) => g.rpsInAggs.has(id)))
        : new Set(g.rpsInAggs);
    if (filtered.size === 0) return null;
  }
  const forbidden = new Set<number>();
  const exclude = (bad: Set<number>): boolean => {
    for (const id of bad) forbidden.add(id);
    if (filtered.size === 0) return true;
    for (const id of bad) filtered.delete(id);
    return filtered.size > 0;
  };
  if (badAggs !== null && !exclude(badAggs)) return null;
  if (badTraits !== null && !exclude(badTraits)) return null;
  return [filtered, forbidden];
}

/** Single providers that satisfy the whole group (research_context.get_provider_ids_matching). */
async function providersMatching(g: GroupSearch): Promise<ProviderAndRoot[]> {
  const filter = await traitAndAggregateFilter(g);
  if (filter === null) return [];
  let [filtered] = filter;
  const [, forbidden] = filter;
  let found: ProviderAndRoot[] = [];
  let first = true;
  for (const classId of g.resources.keys()) {
    found = g.withResource.get(classId) ?? [];
    if (found.length === 0) return [];
    const ids = new Set(found.map(([id]) => id));
    if (first) {
      first = false;
      if (filtered.size > 0) filtered = new Set([...filtered].filter((id) => ids.has(id)));
      else {
        filtered = ids;
        for (const id of forbidden) filtered.delete(id);
      }
    } else {
      filtered = new Set([...filtered].filter((id) => ids.has(id)));
    }
    if (filtered.size === 0) return [];
  }
  if (g.resources.size === 0) found = await g.ctx.store.candidates.withRoot(filtered, forbidden);
  return found.filter(([id]) => filtered.has(id));
}

/**
 * Providers of trees (and sharing providers anchored to them) that
 * together have capacity for every class of the group
 * (research_context.get_trees_matching_all).
 */
async function treesMatchingAll(g: GroupSearch, w: WideSearch): Promise<Candidates> {
  const store = g.ctx.store.candidates;
  const badAggs =
    g.group.forbiddenAggs.size > 0
      ? await providersInAggregates(g.ctx, [[...g.group.forbiddenAggs]])
      : new Set<number>();
  const all = new Candidates();
  for (const classId of g.resources.keys()) {
    const forClass = new Candidates();
    forClass.add(g.withResource.get(classId) ?? [], classId);
    if (forClass.size === 0) return new Candidates();
    const sharing = g.sharedCapacity(classId);
    if (sharing.size > 0 && g.treeRootId === undefined) {
      const anchors = await store.anchorsOfSharing(sharing);
      forClass.add(
        anchors.map((a): ProviderAndRoot => [a.providerId, a.anchorId]),
        classId,
      );
    }
    if (w.anchorRootIds !== null && w.anchorRootIds.size > 0) {
      forClass.keepTrees(w.anchorRootIds);
      if (forClass.size === 0) return new Candidates();
    }
    if (g.group.memberOf.length > 0) {
      forClass.keepProviderOrTree(g.rpsInAggs);
      if (forClass.size === 0) return new Candidates();
    }
    if (g.group.forbiddenAggs.size > 0) {
      forClass.dropProviderOrTree(badAggs);
      if (forClass.size === 0) return new Candidates();
    }
    all.mergeCommonTrees(forClass);
    if (all.size === 0) return new Candidates();
  }
  if ((g.requiredTraits.length === 0 && g.forbiddenTraits.size === 0) || g.existsSharing) {
    return all;
  }
  all.keepProviders(await treesWithTraits(g, all.providerIds()));
  return all;
}

/**
 * The (provider, root) pairs of `providerIds` whose tree can still meet
 * the group's traits: some provider of it without a forbidden trait, and
 * the required ones among its providers that have no forbidden trait
 * (research_context._get_trees_with_traits). Combinations are checked later.
 */
async function treesWithTraits(g: GroupSearch, providerIds: Set<number>): Promise<Set<string>> {
  const store = g.ctx.store.candidates;
  const roots = await store.rootsOf(providerIds);
  const traits = new Map<number, Set<number>>();
  for (const [id, trait] of await store.traitsOf(roots.keys())) {
    let set = traits.get(id);
    if (!set) traits.set(id, (set = new Set()));
    set.add(trait);
  }
  const forbidden = [...g.forbiddenTraits.values()];
  const good = [...roots.keys()].filter((id) => !forbidden.some((t) => traits.get(id)?.has(t)));
  const pair = (id: number, root: number) => `${id},${root}`;
  const out = new Set<string>();
  if (g.requiredTraits.length === 0) {
    const goodRoots = new Set(good.map((id) => roots.get(id)!));
    for (const [id, root] of roots) if (goodRoots.has(root)) out.add(pair(id, root));
    return out;
  }
  // Each tree's providers, for the trees that qualify (one pass, not one per tree).
  const inTree = new Map<number, number[]>();
  for (const [id, root] of roots) {
    const list = inTree.get(root);
    if (list) list.push(id);
    else inTree.set(root, [id]);
  }
  const byRoot = new Map<number, Set<number>>();
  for (const id of good) {
    const has = traits.get(id);
    if (!has) continue;
    const root = roots.get(id)!;
    let set = byRoot.get(root);
    if (!set) byRoot.set(root, (set = new Set()));
    for (const t of has) set.add(t);
  }
  for (const [root, has] of byRoot) {
    if (!g.requiredTraits.every((any) => [...any].some((t) => has.has(t)))) continue;
    for (const id of inTree.get(root)!) out.add(pair(id, root));
  }
  return out;
}

/**
 * Summaries of every provider of the trees rooted at `rootIds` not yet
 * summarised: capacity as placement computes it, int((total − reserved) ×
 * ratio), and what is used (allocation_candidate._build_provider_summaries).
 */
export async function buildSummaries(w: WideSearch, rootIds: Iterable<number>): Promise<void> {
  const fresh = [...new Set(rootIds)].filter((id) => !w.summaries.has(id));
  if (fresh.length === 0) return;
  const store = w.ctx.store.candidates;
  const [trees, treeTraits, traitName, className] = await Promise.all([
    store.usagesOfTrees(fresh),
    store.traitsOfTrees(fresh),
    w.ctx.traits.namesById(),
    w.ctx.resourceClasses.namesById(),
  ]);
  const providers = new Map(trees.providers.map((p) => [p.id, p]));
  const traits = new Map<number, string[]>();
  for (const [id, trait] of treeTraits) {
    const name = traitName(trait);
    const list = traits.get(id);
    if (list) list.push(name);
    else traits.set(id, [name]);
  }
  const created = new Map<number, ProviderSummary>();
  for (const p of trees.providers) {
    if (w.summaries.has(p.id)) continue;
    const parentUuid = p.parentId === null ? null : (providers.get(p.parentId)?.uuid ?? null);
    w.parentUuidByUuid.set(p.uuid, parentUuid);
    const summary: ProviderSummary = {
      provider: { id: p.id, uuid: p.uuid, rootUuid: providers.get(p.rootId)!.uuid, parentUuid },
      resources: [],
      traits: traits.get(p.id) ?? [],
    };
    w.summaries.set(p.id, summary);
    created.set(p.id, summary);
    const set = new Set(summary.traits);
    w.traitSets.set(p.id, set);
    if (set.has(SHARING_TRAIT)) w.sharingIds.add(p.id);
  }
  for (const usage of trees.usages) {
    const summary = created.get(usage.providerId);
    if (!summary) continue;
    const resourceClass = className(usage.classId);
    const resource = {
      resourceClass,
      capacity: Math.trunc((usage.total - usage.reserved) * usage.allocationRatio),
      used: usage.used,
      maxUnit: usage.maxUnit,
    };
    w.capacities.set(capacityKey(usage.providerId, resourceClass), resource);
    summary.resources.push(resource);
  }
}

/**
 * One allocation request per provider that satisfies the whole group,
 * plus, for a sharing provider, one per tree it is shared with
 * (allocation_candidate._alloc_candidates_single_provider).
 */
async function singleProviderRequests(
  g: GroupSearch,
  w: WideSearch,
  found: ProviderAndRoot[],
): Promise<AllocationRequest[]> {
  if (found.length === 0) return [];
  await buildSummaries(
    w,
    found.map(([, root]) => root),
  );
  const requests: AllocationRequest[] = [];
  const shared: [AllocationRequest, number, number][] = [];
  for (const [id, rootId] of found) {
    const summary = w.summaries.get(id)!;
    const provider = summary.provider;
    const request: AllocationRequest = {
      anchorUuid: provider.rootUuid,
      useSameProvider: g.group.useSameProvider,
      resources: [...g.resources].map(([classId, amount]) => ({
        provider,
        resourceClass: g.classNames.get(classId)!,
        amount,
      })),
      mappings: new Map([[g.suffix, new Set([provider.uuid])]]),
    };
    if (w.inFilteredAnchors(rootId)) requests.push(request);
    if (summary.traits.includes(SHARING_TRAIT)) shared.push([request, id, rootId]);
  }
  if (shared.length > 0) {
    const anchors = await g.ctx.store.candidates.anchorsOfSharing(shared.map(([, id]) => id));
    for (const [request, id, rootId] of shared) {
      for (const anchor of anchors) {
        if (anchor.providerId !== id || anchor.anchorId === rootId) continue;
        if (!w.inFilteredAnchors(anchor.anchorId)) continue;
        requests.push({ ...request, anchorUuid: anchor.anchorUuid });
      }
    }
  }
  return requests;
}

/** Whether the providers of one combination meet the group's traits together. */
function meetsTraits(
  combination: readonly RequestResource[],
  w: WideSearch,
  g: GroupSearch,
): boolean {
  const sets = combination.map((r) => w.traitSets.get(r.provider.id)!);
  for (const name of g.forbiddenTraits.keys()) if (sets.some((s) => s.has(name))) return false;
  return g.group.requiredTraits.every((any) => any.some((t) => sets.some((s) => s.has(t))));
}

/** Every combination of one item from each list, in order (itertools.product). */
export function* product<T>(lists: readonly (readonly T[])[]): Generator<T[]> {
  if (lists.some((l) => l.length === 0)) return;
  const index = lists.map(() => 0);
  for (;;) {
    yield lists.map((l, i) => l[index[i]!]!);
    let i = lists.length - 1;
    while (i >= 0) {
      index[i]!++;
      if (index[i]! < lists[i]!.length) break;
      index[i] = 0;
      i--;
    }
    if (i < 0) return;
  }
}

/**
 * For each tree, every combination of one provider per class that meets
 * the group's traits (allocation_candidate._alloc_candidates_multiple_providers).
 */
async function multipleProviderRequests(
  g: GroupSearch,
  w: WideSearch,
  candidates: Candidates,
): Promise<AllocationRequest[]> {
  if (candidates.size === 0) return [];
  await buildSummaries(w, candidates.allProviderIds());
  const byTree = new Map<number, Map<number, RequestResource[]>>();
  for (const c of candidates.values()) {
    const summary = w.summaries.get(c.id);
    if (!summary) continue;
    let byClass = byTree.get(c.rootId);
    if (!byClass) byTree.set(c.rootId, (byClass = new Map()));
    let list = byClass.get(c.classId);
    if (!list) byClass.set(c.classId, (list = []));
    list.push({
      provider: summary.provider,
      resourceClass: g.classNames.get(c.classId)!,
      amount: g.resources.get(c.classId)!,
    });
  }
  const requests: AllocationRequest[] = [];
  const checkTraits = g.requiredTraits.length > 0 || g.forbiddenTraits.size > 0;
  // placement 8.0.0 collects these in one set across trees, so a request
  // made only of sharing providers' resources (the same request for every
  // tree they serve) survives for whichever tree its set iterates first,
  // and numbered groups on the other trees lose it. Each tree keeps its own
  // here; the merge's set still removes equal answers. One tree's
  // combinations are distinct.
  for (const [rootId, byClass] of byTree) {
    const anchorUuid = w.summaries.get(rootId)!.provider.uuid;
    const lists = [...byClass.entries()].sort(([a], [b]) => a - b).map(([, l]) => l);
    for (const combination of product(lists)) {
      if (checkTraits && !meetsTraits(combination, w, g)) continue;
      const request: AllocationRequest = {
        anchorUuid,
        useSameProvider: g.group.useSameProvider,
        resources: combination,
        mappings: new Map([[g.suffix, new Set(combination.map((r) => r.provider.uuid))]]),
      };
      requests.push(request);
    }
  }
  return requests;
}
