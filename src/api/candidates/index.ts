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
  // providers. The caches every group reads are loaded meanwhile.
  const [wide, shared] = await Promise.allSettled([
    WideSearch.open(ctx, request.wide, nestedAware, ctx.settings),
    sharingProviders(ctx),
    ctx.resourceClasses.all(),
  ]);
  const w = settled(wide);
  const sharing = settled(shared);
  const seen = new Set<string>();
  const byGroup = new Map<string, AllocationRequest[]>();
  // The first group starts its own capacity query; the later ones' start now.
  const prefetched = [...request.groups.values()].map((group, i) =>
    i === 0 ? undefined : prefetchCapacity(ctx, group, w.hasTrees),
  );
  let index = 0;
  for (const [suffix, group] of request.groups) {
    const g = await GroupSearch.open(ctx, group, w.hasTrees, sharing, prefetched[index++]);
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
