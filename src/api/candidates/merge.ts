/**
 * From each group's allocation requests to the answer's: for every tree
 * (anchor) that all groups can use, every combination of one request per
 * group that meets group_policy and same_subtree, consolidated into one
 * and kept if it fits (allocation_candidate._merge_candidates); then the
 * pre-1.29 exclusion of nested answers and the limit.
 */
import { product, type WideSearch } from './search.js';
import {
  capacityKey,
  requestKey,
  type AllocationRequest,
  type ProviderSummary,
  type RequestResource,
} from './model.js';

export interface CandidateAnswer {
  requests: AllocationRequest[];
  summaries: ProviderSummary[];
}

/** isolate: the suffixed groups' requests are on as many distinct providers as there are such groups. */
function meetsGroupPolicy(list: AllocationRequest[], w: WideSearch, granular: number): boolean {
  if (w.wide.groupPolicy !== 'isolate') return true;
  const providers = new Set<string>();
  for (const req of list) {
    if (!req.useSameProvider) continue;
    const first = req.mappings.values().next().value;
    for (const uuid of first ?? []) providers.add(uuid);
  }
  return providers.size === granular;
}

/** The provider and its ancestors. */
function ancestors(uuid: string, parents: Map<string, string | null>): Set<string> {
  const out = new Set([uuid]);
  for (let p = parents.get(uuid); p !== null && p !== undefined; p = parents.get(p)) out.add(p);
  return out;
}

/** same_subtree: the providers of the named groups all descend from one of them. */
function meetsSameSubtree(list: AllocationRequest[], w: WideSearch): boolean {
  for (const suffixes of w.wide.sameSubtrees) {
    const uuids = new Set<string>();
    for (const req of list) {
      for (const s of suffixes) for (const uuid of req.mappings.get(s) ?? []) uuids.add(uuid);
    }
    if (uuids.size <= 1) continue;
    let common: string[] | null = null;
    for (const uuid of uuids) {
      const a = ancestors(uuid, w.parentUuidByUuid);
      common = common === null ? [...a] : common.filter((x) => a.has(x));
    }
    if (!(common ?? []).some((x) => uuids.has(x))) return false;
  }
  return true;
}

/**
 * One request from one per group: amounts of one class on one provider
 * added up. As in placement, the first group's request resource takes the
 * sum in place unless group_policy=none asks for the class in several
 * groups (then it is copied first).
 */
function consolidate(
  list: AllocationRequest[],
  w: WideSearch,
): { request: AllocationRequest; added: boolean } {
  if (list.length === 1) return { request: list[0]!, added: false };
  const byKey = new Map<string, RequestResource>();
  const mappings = new Map<string, Set<string>>();
  let added = false;
  for (const req of list) {
    for (const r of req.resources) {
      const key = capacityKey(r.provider.id, r.resourceClass);
      const existing = byKey.get(key);
      if (existing) {
        existing.amount += r.amount;
        added = true;
      } else {
        const copy = w.wide.groupPolicy === 'none' && w.multiGroupClasses.has(r.resourceClass);
        byKey.set(key, copy ? { ...r } : r);
      }
    }
    for (const [suffix, uuids] of req.mappings) {
      let set = mappings.get(suffix);
      if (!set) mappings.set(suffix, (set = new Set()));
      for (const u of uuids) set.add(u);
    }
  }
  return {
    request: {
      anchorUuid: list[0]!.anchorUuid,
      useSameProvider: false,
      resources: [...byKey.values()],
      mappings,
    },
    added,
  };
}

/** Whether a consolidated request goes beyond a provider's capacity or max_unit. */
function exceedsCapacity(req: AllocationRequest, w: WideSearch): boolean {
  for (const r of req.resources) {
    const c = w.capacities.get(capacityKey(r.provider.id, r.resourceClass))!;
    if (c.used + r.amount > c.capacity || r.amount > c.maxUnit) return true;
  }
  return false;
}

/** Takes one from each generator in turn until all are spent (breadth-first). */
function* roundRobin<T>(generators: Generator<T>[]): Generator<T> {
  let live = generators;
  while (live.length > 0) {
    const next: Generator<T>[] = [];
    for (const g of live) {
      const step = g.next();
      if (!step.done) {
        yield step.value;
        next.push(g);
      }
    }
    live = next;
  }
}

function* chain<T>(generators: Generator<T>[]): Generator<T> {
  for (const g of generators) yield* g;
}

export function mergeCandidates(
  byGroup: Map<string, AllocationRequest[]>,
  w: WideSearch,
): CandidateAnswer {
  const byAnchor = new Map<string, Map<string, AllocationRequest[]>>();
  for (const [suffix, requests] of byGroup) {
    for (const req of requests) {
      let bySuffix = byAnchor.get(req.anchorUuid);
      if (!bySuffix) byAnchor.set(req.anchorUuid, (bySuffix = new Map()));
      let list = bySuffix.get(suffix);
      if (!list) bySuffix.set(suffix, (list = []));
      list.push(req);
    }
  }
  const granular = [...byGroup.keys()].filter((s) => s !== '').length;
  const generators = [...byAnchor.values()]
    .filter((bySuffix) => bySuffix.size === byGroup.size)
    .map((bySuffix) => product([...bySuffix.values()]));
  const lists =
    w.settings.candidateGenerationStrategy === 'breadth-first'
      ? roundRobin(generators)
      : chain(generators);
  const max = w.settings.maxAllocationCandidates;
  // placement keeps a set of requests. Two equal ones come only from
  // requests of sharing providers alone (the same for every tree they
  // anchor) or from amounts added up in place: only those need a key.
  const kept: AllocationRequest[] = [];
  const keys = new Set<string>();
  for (const list of lists) {
    if (!meetsGroupPolicy(list, w, granular)) continue;
    if (!meetsSameSubtree(list, w)) continue;
    const { request, added } = consolidate(list, w);
    if (exceedsCapacity(request, w)) continue;
    if (added || request.resources.every((r) => w.sharingIds.has(r.provider.id))) {
      const key = requestKey(request);
      if (keys.has(key)) continue;
      keys.add(key);
    }
    kept.push(request);
    if (max >= 0 && kept.length >= max) break;
  }
  if (kept.length === 0) return { requests: [], summaries: [] };
  const trees = new Set<string>();
  for (const req of kept) for (const r of req.resources) trees.add(r.provider.rootUuid);
  return {
    requests: kept,
    summaries: [...w.summaries.values()].filter((s) => trees.has(s.provider.rootUuid)),
  };
}

/** Before 1.29 a client cannot see trees: answers using two providers of one tree are dropped. */
export function excludeNested(answer: CandidateAnswer, w: WideSearch): CandidateAnswer {
  if (w.nestedAware || !w.hasTrees) return answer;
  const requests: AllocationRequest[] = [];
  const providers = new Set<string>();
  for (const req of answer.requests) {
    const rootOf = new Map(req.resources.map((r) => [r.provider.uuid, r.provider.rootUuid]));
    if (rootOf.size !== new Set(rootOf.values()).size) continue;
    requests.push(req);
    for (const uuid of rootOf.keys()) providers.add(uuid);
  }
  return {
    requests,
    summaries: answer.summaries.filter((s) => providers.has(s.provider.uuid)),
  };
}

/** A uniformly random permutation (Fisher–Yates), in place. */
function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** `limit`: the first N (or N at random), with the summaries of the trees they use. */
export function limitAnswer(answer: CandidateAnswer, w: WideSearch): CandidateAnswer {
  const limit = w.wide.limit;
  const random = w.settings.randomizeAllocationCandidates;
  if (limit && limit < answer.requests.length) {
    const requests = random
      ? shuffle([...answer.requests]).slice(0, limit)
      : answer.requests.slice(0, limit);
    const roots = new Set<string>();
    for (const req of requests) for (const r of req.resources) roots.add(r.provider.rootUuid);
    return {
      requests,
      summaries: answer.summaries.filter((s) => roots.has(s.provider.rootUuid)),
    };
  }
  if (random) shuffle(answer.requests);
  return answer;
}
