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
  sharingProviders,
} from './search.js';

export type { CandidateAnswer } from './merge.js';
export { readCandidateRequest, type CandidateRequest } from './request.js';

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
  const w = await WideSearch.open(ctx, request.wide, nestedAware, ctx.settings);
  const sharing = await sharingProviders(ctx);
  const seen = new Set<string>();
  const byGroup = new Map<string, AllocationRequest[]>();
  for (const [suffix, group] of request.groups) {
    const g = await GroupSearch.open(ctx, group, w.hasTrees, sharing);
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
