/**
 * Compares two GET /allocation_candidates answers as the scheduler would
 * read them: status, headers and error bodies exactly (api-compare's
 * `differences`); `allocation_requests` as a multiset (placement's order
 * changes from process to process), each request canonical (providers and
 * `mappings` lists sorted); `provider_summaries` exactly as Python parses
 * the JSON (16 and 16.0 differ), `traits` lists as sets. A limited answer
 * is checked against the unlimited one by placement's rule instead.
 */
import { isDeepStrictEqual } from 'node:util';
import { differences, type Exchange } from './api-compare.js';
import { parsePythonJson, PyFloat, PyInt, toPythonJson, type PyValue } from './python-json.js';

interface CandidatesBody {
  allocation_requests: PyValue[];
  provider_summaries: Record<string, PyValue>;
}

/** A value with object keys sorted and sets (traits, mappings lists) sorted, for a stable text. */
function canonical(value: PyValue, key?: string): PyValue {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v));
    // The list form (1.10/1.11) of a request's allocations: one entry per provider.
    if (key === 'allocations') return items.sort((a, b) => cmp(toPythonJson(a), toPythonJson(b)));
    if (key === 'traits' || key === 'mapping')
      return items.sort((a, b) => cmp(String(a), String(b)));
    return items;
  }
  if (value instanceof PyInt || value instanceof PyFloat || value === null) return value;
  if (typeof value === 'object') {
    const out: Record<string, PyValue> = {};
    for (const k of Object.keys(value).sort()) {
      // Every list under `mappings` is a set of provider uuids.
      out[k] = canonical(value[k]!, key === 'mappings' ? 'mapping' : k);
    }
    return out;
  }
  return value;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseCandidates(ex: Exchange): CandidatesBody {
  const body = parsePythonJson(ex.body) as unknown as CandidatesBody;
  if (!Array.isArray(body.allocation_requests) || typeof body.provider_summaries !== 'object') {
    throw new Error(`not an allocation candidates body: ${ex.body.slice(0, 300)}`);
  }
  return body;
}

/** Each allocation request as canonical text, sorted: equal lists are equal multisets. */
export function requestTexts(body: CandidatesBody): string[] {
  return body.allocation_requests.map((r) => toPythonJson(canonical(r))).sort(cmp);
}

function summaries(body: CandidatesBody): Record<string, PyValue> {
  return canonical(body.provider_summaries as PyValue) as Record<string, PyValue>;
}

function isCandidates200(ex: Exchange): boolean {
  return ex.status === 200 && (ex.headers['content-type'] ?? '').startsWith('application/json');
}

/** The part of `a` not in `b`, as multisets of texts. */
function minus(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  const out: string[] = [];
  for (const x of a) {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    else out.push(x);
  }
  return out;
}

/** How two summaries maps differ: providers on one side only, then the first unequal provider. */
function summaryDifferences(
  ours: Record<string, PyValue>,
  theirs: Record<string, PyValue>,
): string[] {
  const diffs: string[] = [];
  const onlyOurs = Object.keys(ours).filter((u) => !(u in theirs));
  const onlyTheirs = Object.keys(theirs).filter((u) => !(u in ours));
  if (onlyOurs.length > 0) diffs.push(`summaries only in ours: ${onlyOurs.slice(0, 5).join(', ')}`);
  if (onlyTheirs.length > 0) {
    diffs.push(`summaries only in placement's: ${onlyTheirs.slice(0, 5).join(', ')}`);
  }
  for (const u of Object.keys(theirs)) {
    if (u in ours && !isDeepStrictEqual(ours[u], theirs[u])) {
      diffs.push(
        `summary of ${u}:\n    ours:   ${toPythonJson(ours[u])}\n    theirs: ${toPythonJson(theirs[u])}`,
      );
      break;
    }
  }
  return diffs;
}

/** How two request multisets differ, with up to three examples on each side. */
function requestDifferences(ours: string[], theirs: string[]): string[] {
  const diffs: string[] = [];
  const extra = minus(ours, theirs);
  const missing = minus(theirs, ours);
  if (extra.length > 0 || missing.length > 0) {
    diffs.push(
      `allocation_requests: ours ${ours.length}, placement ${theirs.length}; ${extra.length} only in ours, ${missing.length} only in placement's`,
    );
    for (const x of extra.slice(0, 3)) diffs.push(`  only ours:   ${x}`);
    for (const x of missing.slice(0, 3)) diffs.push(`  only theirs: ${x}`);
  }
  return diffs;
}

/** Status and headers (and the body when not a 200 candidates answer) as api-compare sees them. */
function envelopeDifferences(ours: Exchange, theirs: Exchange): string[] {
  if (isCandidates200(ours) && isCandidates200(theirs)) {
    return differences({ ...ours, body: '{}' }, { ...theirs, body: '{}' });
  }
  return differences(ours, theirs);
}

const SHARING_TRAIT = 'MISC_SHARES_VIA_AGGREGATE';

/**
 * The one place ours answers more than placement 8.0.0, by design (docs/api.md):
 * an unsuffixed group satisfied by sharing providers alone is one request for
 * every tree they serve; placement keeps it for the tree its Python set
 * iterates first, so numbered groups on the other trees lose candidates,
 * where ours keeps it for every tree. Allowed only when every candidate of
 * placement's is ours too, every extra one uses a sharing provider for the
 * unsuffixed group (its `mappings` from 1.34; else some provider of it
 * shares), and ours summarises placement's providers identically, plus only
 * the trees of the extra candidates.
 */
function sharingSupersetDifferences(
  a: CandidatesBody,
  b: CandidatesBody,
  rootOf: Record<string, string>,
): string[] {
  const ours = requestTexts(a);
  const theirs = requestTexts(b);
  const missing = minus(theirs, ours);
  if (missing.length > 0) return requestDifferences(ours, theirs);
  const extraTexts = new Set(minus(ours, theirs));
  const summary = summaries(a);
  const sharing = new Set(
    Object.entries(summary)
      .filter(([, s]) => {
        const traits = (s as Record<string, PyValue>)['traits'];
        return Array.isArray(traits) && traits.includes(SHARING_TRAIT);
      })
      .map(([u]) => u),
  );
  const diffs: string[] = [];
  const extraRoots = new Set<string>();
  for (const r of a.allocation_requests) {
    const text = toPythonJson(canonical(r));
    if (!extraTexts.has(text)) continue;
    const providers = providersOf(r);
    const mappings = (r as Record<string, PyValue>)['mappings'] as
      Record<string, PyValue> | undefined;
    const unsuffixed = mappings ? ((mappings[''] as string[] | undefined) ?? []) : providers;
    const byShared = mappings
      ? unsuffixed.length > 0 && unsuffixed.every((u) => sharing.has(u))
      : unsuffixed.some((u) => sharing.has(u));
    if (!byShared) diffs.push(`only ours, and not by a sharing-only unsuffixed group: ${text}`);
    for (const u of providers) extraRoots.add(rootOf[u] ?? u);
  }
  const mine = summary;
  const want = summaries(b);
  for (const [u, s] of Object.entries(want)) {
    if (!isDeepStrictEqual(mine[u], s)) {
      diffs.push(
        `summary of ${u}:\n    ours:   ${toPythonJson(mine[u] ?? null)}\n    theirs: ${toPythonJson(s)}`,
      );
      break;
    }
  }
  const strays = Object.keys(mine).filter((u) => !(u in want) && !extraRoots.has(rootOf[u] ?? u));
  if (strays.length > 0)
    diffs.push(
      `summaries only in ours, of no extra candidate's tree: ${strays.slice(0, 5).join(', ')}`,
    );
  return diffs;
}

/** The differences between two answers to the same unlimited request. */
export function candidateDifferences(
  ours: Exchange,
  theirs: Exchange,
  /** Set (with the provider → root map) where a sharing-only unsuffixed group meets numbered ones. */
  sharingSuperset?: Record<string, string>,
): string[] {
  const diffs = envelopeDifferences(ours, theirs);
  if (!(isCandidates200(ours) && isCandidates200(theirs))) return diffs;
  let a: CandidatesBody;
  let b: CandidatesBody;
  try {
    a = parseCandidates(ours);
    b = parseCandidates(theirs);
  } catch (err) {
    return [...diffs, (err as Error).message];
  }
  const keys = (x: object) => Object.keys(x).sort().join(',');
  if (keys(a) !== keys(b)) diffs.push(`body keys: ${keys(a)} ≠ ${keys(b)}`);
  if (sharingSuperset) return [...diffs, ...sharingSupersetDifferences(a, b, sharingSuperset)];
  diffs.push(...requestDifferences(requestTexts(a), requestTexts(b)));
  diffs.push(...summaryDifferences(summaries(a), summaries(b)));
  return diffs;
}

/** The providers a request names (dict form 1.12+, list form before). */
function providersOf(request: PyValue): string[] {
  const allocations = (request as Record<string, PyValue>)['allocations'];
  if (Array.isArray(allocations)) {
    return allocations.map(
      (x) =>
        ((x as Record<string, PyValue>)['resource_provider'] as Record<string, string>)['uuid']!,
    );
  }
  return Object.keys(allocations as Record<string, PyValue>);
}

/**
 * The differences between a limited answer and placement's rule applied to
 * the unlimited one: as many requests as min(limit, all), each one of the
 * unlimited answer's, and (when the limit cut) exactly the summaries of
 * the providers whose root is a root of a provider in a kept request.
 * `rootOf` maps a provider uuid to its root's (summaries before 1.29 omit it).
 */
export function limitedDifferences(
  limited: Exchange,
  unlimited: Exchange,
  limit: number,
  rootOf: Record<string, string>,
): string[] {
  if (!isCandidates200(limited) || !isCandidates200(unlimited)) {
    return [
      `limited ${limited.status}, unlimited ${unlimited.status}: ${limited.body.slice(0, 300)}`,
    ];
  }
  const lim = parseCandidates(limited);
  const all = parseCandidates(unlimited);
  const diffs: string[] = [];
  const total = all.allocation_requests.length;
  const expected = Math.min(limit, total);
  if (lim.allocation_requests.length !== expected) {
    diffs.push(
      `limit=${limit}: ${lim.allocation_requests.length} requests, expected ${expected} of ${total}`,
    );
  }
  const foreign = minus(requestTexts(lim), requestTexts(all));
  for (const x of foreign.slice(0, 3))
    diffs.push(`limited request not in the unlimited answer: ${x}`);
  let want = summaries(all);
  if (limit < total) {
    const roots = new Set(lim.allocation_requests.flatMap(providersOf).map((u) => rootOf[u] ?? u));
    want = Object.fromEntries(Object.entries(want).filter(([u]) => roots.has(rootOf[u] ?? u)));
  }
  diffs.push(...summaryDifferences(summaries(lim), want));
  return diffs;
}
