/**
 * GET /allocation_candidates' search (AllocationCandidates.get_by_requests):
 * the request-wide context, each group's requests in the query's order
 * (an empty group ends the search: later groups are not even looked up),
 * then the merge, the pre-1.29 exclusion and the limit.
 */
import type { RequestContext } from '../context.js';
import { excludeNested, limitAnswer, mergeCandidates, type CandidateAnswer } from './merge.js';
import type { AllocationRequest } from './model.js';
import type { CandidateRequest } from './request.js';
import {
  GroupSearch,
  NoCandidates,
  WideSearch,
  candidatesForGroup,
  prefetchCapacity,
  sharingProviders,
  startTraitReads,
} from './search.js';

export type { CandidateAnswer } from './merge.js';
export { readCandidateRequest, type CandidateRequest } from './request.js';

/** A settled promise's value, or its failure thrown. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

export async function findCandidates(
  ctx: RequestContext,
  request: CandidateRequest,
  nestedAware: boolean,
): Promise<CandidateAnswer> {
  try {
    return await search(ctx, request, nestedAware);
  } catch (err) {
    if (err instanceof NoCandidates) return { requests: [], summaries: [] };
    throw err;
  }
}

async function search(
  ctx: RequestContext,
  request: CandidateRequest,
  nestedAware: boolean,
): Promise<CandidateAnswer> {
  // Independent reads side by side; their outcomes (and failures) are taken
  // in placement's order: the request-wide context first, then the sharing
  // providers. The caches every group reads are loaded meanwhile, and each
  // group's capacity query starts once the providers' shape is known.
  const hasTrees = ctx.store.candidates.hasTrees();
  hasTrees.catch(() => undefined); // seen through WideSearch.open
  const prefetched = [...request.groups.values()].map((group) =>
    prefetchCapacity(ctx, group, hasTrees),
  );
  const [wide, shared] = await Promise.allSettled([
    WideSearch.open(ctx, request.wide, nestedAware, ctx.settings, hasTrees),
    sharingProviders(ctx),
    ctx.resourceClasses.all(),
  ]);
  const w = settled(wide);
  const sharing = settled(shared);
  const seen = new Set<string>();
  const byGroup = new Map<string, AllocationRequest[]>();
  // Every group's trait reads start now too (see startTraitReads on the shared set).
  const traitReads = [...request.groups.values()].map((group) =>
    startTraitReads(ctx, group, w.hasTrees, sharing),
  );
  let index = 0;
  for (const [suffix, group] of request.groups) {
    const i = index++;
    const g = await GroupSearch.open(ctx, group, w.hasTrees, sharing, prefetched[i], traitReads[i]);
    for (const rc of group.resources.keys()) {
      if (seen.has(rc)) w.multiGroupClasses.add(rc);
      else seen.add(rc);
    }
    const requests = await candidatesForGroup(g, w);
    if (requests.length === 0) return { requests: [], summaries: [] };
    byGroup.set(suffix, requests);
  }
  return limitAnswer(excludeNested(mergeCandidates(byGroup, w), w), w);
}
