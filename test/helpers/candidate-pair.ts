/**
 * The two services the allocation-candidates tests compare, on ONE
 * database (candidates are reads: both must see the very same rows): the
 * real placement 8.0.0, which also writes the topologies, and ours
 * (`api serve --read-only`) — or, with PU_AC_OURS=real, a second real
 * placement, which proves the harness: two placements must compare equal
 * although their candidate order differs.
 */
import type { Engine } from '../../src/db/url.js';
import { syncSchema } from '../../src/schema/migrator.js';
import { call, type Exchange } from './api-compare.js';
import { startOurApi, startRealPlacement, type RunningService } from './api-services.js';
import { candidateDifferences, limitedDifferences, requestTexts } from './candidate-compare.js';
import { amountsUndefinedIn800, type CandidateCall } from './candidate-requests.js';
import { createTestDatabase, withOpen, type TestDatabase } from './databases.js';
import { parsePythonJson } from './python-json.js';

export interface CandidatePair {
  engine: Engine;
  database: TestDatabase;
  theirs: RunningService;
  ours: RunningService;
  /** What "ours" is in this run. */
  oursIs: 'ours' | 'real';
  stop(): Promise<void>;
}

/** What ours is in this run: ours, or a second real placement (PU_AC_OURS=real). */
export function candidateOursIs(): 'ours' | 'real' {
  return process.env['PU_AC_OURS'] === 'real' ? 'real' : 'ours';
}

/**
 * A fresh database with placement's schema and the real placement on it;
 * `fill` writes through it before ours starts (so ours sees the data from
 * its first request, as api-differential does).
 */
export async function startCandidatePair(
  engine: Engine,
  prefix: string,
  fill: (realUrl: string) => Promise<void>,
): Promise<CandidatePair> {
  const database = await createTestDatabase(engine, prefix);
  const started: RunningService[] = [];
  const stop = async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    await database.drop();
  };
  try {
    await withOpen(database, (db) => syncSchema(db, { target: 'zed' }));
    const theirs = await startRealPlacement(database.url);
    started.push(theirs);
    await fill(theirs.url);
    const oursIs = candidateOursIs();
    const ours =
      oursIs === 'real'
        ? await startRealPlacement(database.url)
        : await startOurApi(database.url, ['--read-only']);
    started.push(ours);
    return { engine, database, theirs, ours, oursIs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One request's outcome: its differences, and whether placement found candidates. */
export interface CandidateOutcome {
  diffs: string[];
  /** Placement answered 200 with at least one allocation request. */
  nonEmpty: boolean;
  /** Placement answered 200. */
  ok: boolean;
  /** Only the status was compared: placement 8.0.0's amounts are undefined here. */
  statusOnly?: boolean;
  /** Placement failed with a known 500 of its own; ours was held to the answer placement gives elsewhere. */
  upstream500?: boolean;
}

/**
 * The status ours must give where placement 8.0.0 fails with a known 500
 * (null: not a known defect). On PostgreSQL a group's forbidden traits
 * reach _get_trees_with_traits as the names (the keys of its name → id
 * dict) where ids belong, and psycopg2's "invalid input syntax for type
 * integer" escapes; MariaDB and SQLite compare the names with ids and
 * match nothing, and answer 200, as ours must.
 */
function answerToUpstreamDefect(engine: Engine, theirs: Exchange): number | null {
  if (theirs.status !== 500) return null;
  if (
    engine === 'postgresql' &&
    theirs.body.includes('InvalidTextRepresentation') &&
    theirs.body.includes('rptt_forbidden.trait_id IN')
  ) {
    return 200;
  }
  return null;
}

/** Whether the query asks the unsuffixed group for resources beside a numbered (or named) group. */
function mixesUnsuffixedAndNumbered(c: CandidateCall): boolean {
  const keys = new URLSearchParams(c.path.split('?')[1] ?? '').keys();
  const names = [...keys];
  return names.includes('resources') && names.some((k) => /^resources.+/.test(k));
}

function unlimitedPath(path: string): string {
  const [route, query = ''] = path.split('?');
  const kept = query.split('&').filter((p) => !p.startsWith('limit='));
  return `${route}?${kept.join('&')}`;
}

function candidateCount(ex: Exchange): number {
  if (ex.status !== 200) return 0;
  try {
    const body = parsePythonJson(ex.body) as unknown as { allocation_requests: unknown[] };
    return requestTexts(body as never).length;
  } catch {
    return 0;
  }
}

/** A 200 with its candidates left out, to compare status and headers only. */
function blank(ex: Exchange): Exchange {
  return ex.status === 200
    ? { ...ex, body: '{"allocation_requests": [], "provider_summaries": {}}' }
    : ex;
}

/**
 * Sends one request to both and compares; a limited request is also sent
 * unlimited to placement, and both limited answers are checked against it
 * (placement's own answer failing the rule is a harness error, said so).
 */
export async function compareCandidateCall(
  pair: CandidatePair,
  c: CandidateCall,
  rootOf: Record<string, string>,
): Promise<CandidateOutcome> {
  const [a, b] = await Promise.all([call(pair.ours.url, c), call(pair.theirs.url, c)]);
  const ok = b.status === 200;
  const expected = answerToUpstreamDefect(pair.engine, b);
  if (expected !== null) {
    // A second real placement (harness check) fails the same way.
    const diffs =
      a.status === expected || (pair.oursIs === 'real' && a.status === b.status)
        ? []
        : [`ours ${a.status} where placement fails with a known 500: ${b.body.slice(0, 300)}`];
    return { diffs, nonEmpty: false, ok: false, upstream500: true };
  }
  if (ok && amountsUndefinedIn800(c)) {
    return {
      diffs: candidateDifferences(blank(a), blank(b)),
      nonEmpty: false,
      ok,
      statusOnly: true,
    };
  }
  if (c.limit === undefined || !ok) {
    const superset = pair.oursIs === 'ours' && mixesUnsuffixedAndNumbered(c) ? rootOf : undefined;
    return { diffs: candidateDifferences(a, b, superset), nonEmpty: candidateCount(b) > 0, ok };
  }
  const full = await call(pair.theirs.url, { ...c, path: unlimitedPath(c.path) });
  const harness = limitedDifferences(b, full, c.limit, rootOf);
  if (harness.length > 0) {
    throw new Error(
      `placement's own limited answer breaks the harness's rule for ${c.path} @${c.version}:\n  ${harness.join('\n  ')}`,
    );
  }
  const envelope = candidateDifferences(
    {
      ...a,
      body: a.status === 200 ? '{"allocation_requests": [], "provider_summaries": {}}' : a.body,
    },
    { ...b, body: '{"allocation_requests": [], "provider_summaries": {}}' },
  );
  const diffs = [
    ...envelope,
    ...(a.status === 200 ? limitedDifferences(a, full, c.limit, rootOf) : []),
  ];
  return { diffs, nonEmpty: candidateCount(b) > 0, ok };
}

/** A call as a failing test prints it. */
export function describeCall(c: CandidateCall): string {
  return `${c.method ?? 'GET'} ${c.path} @${c.version ?? '-'}${c.noToken ? ' (no token)' : ''}${c.headers ? ` ${JSON.stringify(c.headers)}` : ''}`;
}
