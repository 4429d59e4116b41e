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

/**
 * Writes one answer as json.dumps writes placement's dicts (", " and ": "
 * between items), appending to one string. Quoted strings are kept: an
 * answer quotes the same uuids and class names thousands of times.
 */
class AnswerWriter {
  private readonly quoted = new Map<string, string>();

  constructor(
    private readonly v: Version,
    /** The classes asked for (summaries show only those before 1.27), or null for all. */
    private readonly asked: Set<string> | null,
  ) {}

  q(s: string): string {
    let out = this.quoted.get(s);
    if (out === undefined) {
      out = dumpString(s);
      this.quoted.set(s, out);
    }
    return out;
  }

  /** From 1.12 the body of a PUT /allocations/{consumer} (dict form); before, the list form. */
  request(req: AllocationRequest): string {
    // Amounts by class, per provider, in the order the request's resources come.
    const providers = new Map<string, string>();
    for (const r of req.resources) {
      const item = `${this.q(r.resourceClass)}: ${String(r.amount)}`;
      const uuid = r.provider.uuid;
      const sofar = providers.get(uuid);
      providers.set(uuid, sofar === undefined ? item : `${sofar}, ${item}`);
    }
    let out = '';
    if (!this.v.atLeast('1.12')) {
      for (const [uuid, resources] of providers) {
        if (out !== '') out += ', ';
        out += `{"resource_provider": {"uuid": ${this.q(uuid)}}, "resources": {${resources}}}`;
      }
      return `{"allocations": [${out}]}`;
    }
    for (const [uuid, resources] of providers) {
      if (out !== '') out += ', ';
      out += `${this.q(uuid)}: {"resources": {${resources}}}`;
    }
    out = `{"allocations": {${out}}`;
    if (this.v.atLeast('1.34')) {
      let mappings = '';
      for (const [suffix, uuids] of req.mappings) {
        if (mappings !== '') mappings += ', ';
        let list = '';
        for (const uuid of uuids) list += list === '' ? this.q(uuid) : `, ${this.q(uuid)}`;
        mappings += `${this.q(suffix)}: [${list}]`;
      }
      out += `, "mappings": {${mappings}}`;
    }
    return `${out}}`;
  }

  /** Capacity and usage (only of the classes asked for, before 1.27), traits from 1.17, the tree from 1.29. */
  summary(s: ProviderSummary): string {
    let resources = '';
    for (const r of s.resources) {
      if (this.asked !== null && !this.asked.has(r.resourceClass)) continue;
      if (resources !== '') resources += ', ';
      resources += `${this.q(r.resourceClass)}: {"capacity": ${String(r.capacity)}, "used": ${String(r.used)}}`;
    }
    let out = `{"resources": {${resources}}`;
    if (this.v.atLeast('1.17')) {
      let traits = '';
      for (const t of s.traits) traits += traits === '' ? this.q(t) : `, ${this.q(t)}`;
      out += `, "traits": [${traits}]`;
    }
    if (this.v.atLeast('1.29')) {
      const parent = s.provider.parentUuid;
      out += `, "parent_provider_uuid": ${parent === null ? 'null' : this.q(parent)}`;
      out += `, "root_provider_uuid": ${this.q(s.provider.rootUuid)}`;
    }
    return `${out}}`;
  }

  answer(answer: CandidateAnswer): string {
    // A summary per provider; a later one for the same provider replaces it, as in a dict.
    const summaries = new Map<string, ProviderSummary>();
    for (const s of answer.summaries) summaries.set(s.provider.uuid, s);
    let requests = '';
    for (const r of answer.requests) {
      if (requests !== '') requests += ', ';
      requests += this.request(r);
    }
    let written = '';
    for (const [uuid, s] of summaries) {
      if (written !== '') written += ', ';
      written += `${this.q(uuid)}: ${this.summary(s)}`;
    }
    return `{"allocation_requests": [${requests}], "provider_summaries": {${written}}}`;
  }
}

function write(answer: CandidateAnswer, request: CandidateRequest, v: Version): string {
  const asked = v.atLeast('1.27')
    ? null
    : new Set([...request.groups.values()].flatMap((g) => [...g.resources.keys()]));
  return new AnswerWriter(v, asked).answer(answer);
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
