/** GET /allocation_candidates: the scheduler's query, answered as placement 8.0.0 answers it. */
import { ObjectNotFound } from '../context.js';
import { findCandidates, readCandidateRequest, type CandidateAnswer } from '../candidates/index.js';
import type { AllocationRequest, ProviderSummary } from '../candidates/model.js';
import type { CandidateRequest } from '../candidates/request.js';
import { badRequest } from '../errors.js';
import type { Version } from '../microversion.js';
import { validateQuery } from '../query.js';
import { json, type Handler } from '../response.js';
import { listCandidatesSchema } from '../schemas/allocation-candidates.js';

/** Amounts by class, per provider, in the order the request resources come. */
function byProvider(req: AllocationRequest): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const r of req.resources) {
    let resources = out.get(r.provider.uuid);
    if (!resources) out.set(r.provider.uuid, (resources = {}));
    resources[r.resourceClass] = r.amount;
  }
  return out;
}

/** From 1.12 the body of a PUT /allocations/{consumer} (dict form); before, the list form. */
function renderRequest(req: AllocationRequest, v: Version): Record<string, unknown> {
  const providers = byProvider(req);
  if (!v.atLeast('1.12')) {
    return {
      allocations: [...providers].map(([uuid, resources]) => ({
        resource_provider: { uuid },
        resources,
      })),
    };
  }
  const allocations: Record<string, { resources: Record<string, number> }> = {};
  for (const [uuid, resources] of providers) allocations[uuid] = { resources };
  const out: Record<string, unknown> = { allocations };
  if (v.atLeast('1.34')) {
    const mappings: Record<string, string[]> = {};
    for (const [suffix, uuids] of req.mappings) mappings[suffix] = [...uuids];
    out['mappings'] = mappings;
  }
  return out;
}

/** Capacity and usage (only of the classes asked for, before 1.27), traits from 1.17, the tree from 1.29. */
function renderSummaries(
  summaries: ProviderSummary[],
  request: CandidateRequest,
  v: Version,
): Record<string, unknown> {
  const asked = new Set([...request.groups.values()].flatMap((g) => [...g.resources.keys()]));
  const all = v.atLeast('1.27');
  const out: Record<string, unknown> = {};
  for (const s of summaries) {
    const resources: Record<string, { capacity: number; used: number }> = {};
    for (const r of s.resources) {
      if (all || asked.has(r.resourceClass)) {
        resources[r.resourceClass] = { capacity: r.capacity, used: r.used };
      }
    }
    const summary: Record<string, unknown> = { resources };
    if (v.atLeast('1.17')) summary['traits'] = s.traits;
    if (v.atLeast('1.29')) {
      summary['parent_provider_uuid'] = s.provider.parentUuid;
      summary['root_provider_uuid'] = s.provider.rootUuid;
    }
    out[s.provider.uuid] = summary;
  }
  return out;
}

function render(answer: CandidateAnswer, request: CandidateRequest, v: Version) {
  return {
    allocation_requests: answer.requests.map((r) => renderRequest(r, v)),
    provider_summaries: renderSummaries(answer.summaries, request, v),
  };
}

export const listAllocationCandidates: Handler = async (ctx) => {
  validateQuery(ctx.query, listCandidatesSchema(ctx.version));
  const request = readCandidateRequest(ctx.query, ctx.version);
  let answer: CandidateAnswer;
  try {
    answer = await findCandidates(ctx, request, ctx.version.atLeast('1.29'));
  } catch (err) {
    if (err instanceof ObjectNotFound && err.kind === 'resource_class') {
      throw badRequest(`Invalid resource class in resources parameter: ${err.message}`);
    }
    if (err instanceof ObjectNotFound && err.kind === 'trait') throw badRequest(err.message);
    throw err;
  }
  // A computed answer: placement's last-modified is "now".
  return json(ctx, render(answer, request, ctx.version), new Date());
};
