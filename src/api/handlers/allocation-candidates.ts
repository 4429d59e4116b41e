/**
 * GET /allocation_candidates: the scheduler's query, answered as placement
 * 8.0.0 answers it. The answer can hold thousands of candidates, so it is
 * written straight to text, as Python's json.dumps would write the dicts
 * placement builds, without building them first.
 */
import { ObjectNotFound } from '../context.js';
import { findCandidates, readCandidateRequest, type CandidateAnswer } from '../candidates/index.js';
import type { AllocationRequest, ProviderSummary } from '../candidates/model.js';
import type { CandidateRequest } from '../candidates/request.js';
import { badRequest } from '../errors.js';
import type { Version } from '../microversion.js';
import { dumpString } from '../py-json.js';
import { validateQuery } from '../query.js';
import { jsonText, type Handler } from '../response.js';
import { listCandidatesSchema } from '../schemas/allocation-candidates.js';

/** `{"K": V, …}` from (already written) members. */
const object = (members: string[]): string => `{${members.join(', ')}}`;
const member = (key: string, value: string): string => `${dumpString(key)}: ${value}`;

/** Amounts by class, per provider, in the order the request resources come. */
function byProvider(req: AllocationRequest): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of req.resources) {
    const text = member(r.resourceClass, String(r.amount));
    const list = out.get(r.provider.uuid);
    if (list) list.push(text);
    else out.set(r.provider.uuid, [text]);
  }
  return out;
}

/** From 1.12 the body of a PUT /allocations/{consumer} (dict form); before, the list form. */
function writeRequest(req: AllocationRequest, v: Version): string {
  const providers = byProvider(req);
  if (!v.atLeast('1.12')) {
    const allocations = [...providers].map(([uuid, resources]) =>
      object([
        member('resource_provider', object([member('uuid', dumpString(uuid))])),
        member('resources', object(resources)),
      ]),
    );
    return object([member('allocations', `[${allocations.join(', ')}]`)]);
  }
  const allocations = [...providers].map(([uuid, resources]) =>
    member(uuid, object([member('resources', object(resources))])),
  );
  const out = [member('allocations', object(allocations))];
  if (v.atLeast('1.34')) {
    const mappings = [...req.mappings].map(([suffix, uuids]) =>
      member(suffix, `[${[...uuids].map(dumpString).join(', ')}]`),
    );
    out.push(member('mappings', object(mappings)));
  }
  return object(out);
}

/** Capacity and usage (only of the classes asked for, before 1.27), traits from 1.17, the tree from 1.29. */
function writeSummary(s: ProviderSummary, asked: Set<string> | null, v: Version): string {
  const resources = s.resources
    .filter((r) => asked === null || asked.has(r.resourceClass))
    .map((r) =>
      member(r.resourceClass, `{"capacity": ${String(r.capacity)}, "used": ${String(r.used)}}`),
    );
  const out = [member('resources', object(resources))];
  if (v.atLeast('1.17')) out.push(member('traits', `[${s.traits.map(dumpString).join(', ')}]`));
  if (v.atLeast('1.29')) {
    const parent = s.provider.parentUuid;
    out.push(member('parent_provider_uuid', parent === null ? 'null' : dumpString(parent)));
    out.push(member('root_provider_uuid', dumpString(s.provider.rootUuid)));
  }
  return object(out);
}

function write(answer: CandidateAnswer, request: CandidateRequest, v: Version): string {
  const asked = v.atLeast('1.27')
    ? null
    : new Set([...request.groups.values()].flatMap((g) => [...g.resources.keys()]));
  // A summary per provider; a later one for the same provider replaces it, as in a dict.
  const summaries = new Map<string, string>();
  for (const s of answer.summaries) summaries.set(s.provider.uuid, writeSummary(s, asked, v));
  const requests = answer.requests.map((r) => writeRequest(r, v));
  const summaryMembers = [...summaries].map(([uuid, text]) => member(uuid, text));
  return object([
    member('allocation_requests', `[${requests.join(', ')}]`),
    member('provider_summaries', object(summaryMembers)),
  ]);
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
  return jsonText(ctx, write(answer, request, ctx.version), new Date());
};
