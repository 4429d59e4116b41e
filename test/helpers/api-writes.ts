/**
 * Differential WRITE sequences: the same requests, in order, sent to the
 * real placement 8.0.0 on one fresh database and to ours on an identical
 * other one; every answer compared as a Python client would read it, then
 * the rows the sequence touched compared table by table. A write cannot be
 * compared on one shared database (each side would see the other's
 * changes), hence the pair.
 *
 * A sequence is data: steps with a method, a path, a microversion and a
 * JSON body, any of which may be a small function of what earlier answers
 * captured (a generation, a uuid from a Location header). Each side keeps
 * its own captures, so a generated uuid is followed on each side and the
 * comparison sees it as the same variable.
 */
import { randomUUID } from 'node:crypto';
import { call } from './api-compare.js';
import { isDeepStrictEqual } from 'node:util';
import type { Database } from '../../src/db/connect.js';
import type { Engine } from '../../src/db/url.js';
import { syncSchema } from '../../src/schema/migrator.js';
import { startOurApi, startRealPlacement, type RunningService } from './api-services.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { PyFloat, PyInt, parsePythonJson, toPythonJson, type PyValue } from './python-json.js';

/** What one side has captured so far in a sequence. */
export type Vars = Record<string, unknown>;
type Dyn<T> = T | ((v: Vars) => T);

/** A reply, as the harness and captures see it. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed with JSON.parse (for captures), when it is JSON. */
  json: unknown;
}

export interface Step {
  /** What the step shows, for a failing diff. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: Dyn<string>;
  /** Microversion; none sends no header (1.0). */
  version?: string;
  /** A JSON body (PyFloat values are sent with their point); content-type JSON is added. */
  body?: ((v: Vars) => unknown) | object | string | number | boolean | null;
  /** A body sent exactly as written, for malformed JSON. */
  rawBody?: string;
  /** Extra headers; null removes a default one (content-type, x-auth-token). */
  headers?: Record<string, string | null>;
  /** The status placement 8.0.0 answers: checked on the real side, so a wrong sequence shows up as such. */
  status: number;
  /** Values to keep from this side's reply; undefined (or a throw) keeps the earlier value. */
  capture?: Record<string, (r: Reply) => unknown>;
}

export interface Sequence {
  name: string;
  steps(ids: SequenceIds): Step[];
}

/**
 * The names and uuids one sequence uses: fresh uuids and names carrying
 * its tag, so sequences share a database without meeting, and the rows
 * each touched can be found afterwards.
 */
export class SequenceIds {
  private readonly uuids = new Map<string, string>();
  constructor(readonly tag: string) {}

  /** A uuid for `key`, the same every time within the sequence. */
  uuid(key: string): string {
    let u = this.uuids.get(key);
    if (!u) {
      u = randomUUID();
      this.uuids.set(key, u);
    }
    return u;
  }

  /** A provider (or other) name unique to the sequence. */
  name(key: string): string {
    return `${this.tag}-${key}`;
  }

  /** A custom trait or resource class name unique to the sequence. */
  custom(key: string): string {
    return `CUSTOM_${this.tag.toUpperCase()}_${key.toUpperCase()}`;
  }

  /** uuid → the key it was made for, to print and compare by key. */
  keysByUuid(): Map<string, string> {
    return new Map([...this.uuids].map(([k, u]) => [u, k]));
  }
}

/** The two services and their databases. */
export interface WritePair {
  engine: Engine;
  /** The real placement. */
  theirs: RunningService;
  /** Ours, or a second real placement when checking the harness itself. */
  ours: RunningService;
  theirsDb: TestDatabase;
  oursDb: TestDatabase;
  stop(): Promise<void>;
}

/**
 * Two fresh databases with placement's (zed) schema, real placement on one
 * and ours (`api serve` without --read-only) on the other; `oursIs: 'real'`
 * puts real placement on both sides, which proves the sequences and the
 * comparison themselves (no difference may remain).
 */
export async function startWritePair(
  engine: Engine,
  options: { oursIs?: 'ours' | 'real' } = {},
): Promise<WritePair> {
  const theirsDb = await createTestDatabase(engine, 'writes_real');
  const oursDb = await createTestDatabase(engine, 'writes_ours');
  const started: RunningService[] = [];
  const stop = async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    await Promise.allSettled([theirsDb.drop(), oursDb.drop()]);
  };
  try {
    for (const d of [theirsDb, oursDb]) {
      const db = await d.open();
      try {
        await syncSchema(db, { target: 'zed' });
      } finally {
        await db.close();
      }
    }
    const theirs = await startRealPlacement(theirsDb.url);
    started.push(theirs);
    const ours =
      options.oursIs === 'real'
        ? await startRealPlacement(oursDb.url)
        : await startOurApi(oursDb.url, []);
    started.push(ours);
    return { engine, theirs, ours, theirsDb, oursDb, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Sends one request on a fresh connection (uwsgi's http-socket does not keep connections alive). */
export async function send(
  base: string,
  r: {
    method: string;
    path: string;
    version?: string;
    body?: string;
    headers?: Record<string, string | null>;
  },
): Promise<Reply> {
  const ex = await call(base, r);
  let json: unknown;
  if ((ex.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      json = JSON.parse(ex.body);
    } catch {
      json = undefined;
    }
  }
  return { status: ex.status, headers: ex.headers, text: ex.body, json };
}

/** Shortcuts for captures and bodies. */
export const pick = {
  /** `resource_provider_generation` of an inventories/traits/aggregates answer. */
  rpGeneration: (r: Reply) =>
    (r.json as { resource_provider_generation: number }).resource_provider_generation,
  /** `generation` of a provider answer. */
  generation: (r: Reply) => (r.json as { generation: number }).generation,
  /** `consumer_generation` of GET /allocations/{consumer}. */
  consumerGeneration: (r: Reply) => (r.json as { consumer_generation: number }).consumer_generation,
  /** The last path segment of the Location header (a generated uuid). */
  locationTail: (r: Reply) => (r.headers['location'] ?? '').split('/').pop(),
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Lists whose order placement leaves unspecified (database or hash order). */
const SET_KEYS = new Set(['resource_providers', 'resource_classes', 'traits', 'aggregates']);

/**
 * How one side's uuids read in a comparison: the sequence's own as `<key>`,
 * that side's captures as `{{name}}`, any other (generated) as `<new-uuid>`.
 */
function uuidNamer(keys: Map<string, string>, vars: Vars): (u: string) => string {
  const captured = new Map<string, string>();
  for (const [k, v] of Object.entries(vars)) {
    if (typeof v === 'string' && /^[0-9a-f-]{36}$/i.test(v)) captured.set(v.toLowerCase(), k);
  }
  return (u) => {
    const lower = u.toLowerCase();
    const key = keys.get(lower);
    if (key !== undefined) return `<${key}>`;
    const cap = captured.get(lower);
    if (cap !== undefined) return `{{${cap}}}`;
    return '<new-uuid>';
  };
}

/** Python prints a set of unexpected properties in hash order: compare them sorted. */
function sortUnexpected(detail: string): string {
  return detail.replace(/\(((?:'[^']*'(?:, )?)+) were unexpected\)/g, (_, list: string) => {
    const names = list.split(', ').sort();
    return `(${names.join(', ')} were unexpected)`;
  });
}

function normalizeValue(v: PyValue, name: (u: string) => string, key?: string): PyValue {
  if (Array.isArray(v)) {
    const items = v.map((x) => normalizeValue(x, name));
    if (key !== undefined && SET_KEYS.has(key)) {
      return items.sort((a, b) => toPythonJson(a).localeCompare(toPythonJson(b)));
    }
    return items;
  }
  if (v instanceof PyInt || v instanceof PyFloat || v === null || typeof v !== 'object') {
    if (typeof v !== 'string') return v;
    if (key === 'request_id' && REQUEST_ID.test(v)) return 'req-*';
    // SQL errors that placement passes through carry the instant of the INSERT.
    const s = v
      .replace(UUID, name)
      .replace(/datetime\.datetime\([\d, ]+\)/g, 'datetime.datetime(<now>)')
      .replace(/'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?'/g, "'<now>'");
    return key === 'detail' ? sortUnexpected(s) : s;
  }
  const out: Record<string, PyValue> = {};
  // Keys may be uuids too (allocations by provider or consumer): named, then sorted.
  for (const [k, x] of Object.entries(v)) out[k.replace(UUID, name)] = normalizeValue(x, name, k);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** Headers whose values must be equal (when either side has them). */
const EXACT_HEADERS = ['content-type', 'openstack-api-version', 'vary', 'allow', 'cache-control'];

function isJson(r: Reply): boolean {
  return (r.headers['content-type'] ?? '').startsWith('application/json');
}

/** How one side's reply reads once its own uuids are named. */
function normalizedBody(r: Reply, name: (u: string) => string): { value?: PyValue; text: string } {
  if (isJson(r)) {
    try {
      const value = normalizeValue(parsePythonJson(r.text || 'null'), name);
      return { value, text: toPythonJson(value) };
    } catch (err) {
      return { text: `(not JSON: ${(err as Error).message}) ${r.text.slice(0, 300)}` };
    }
  }
  return { text: r.text.replace(UUID, name) };
}

/** The differences a client could see between two replies to one step. */
export function replyDifferences(
  ours: Reply,
  theirs: Reply,
  names: { ours: (u: string) => string; theirs: (u: string) => string },
): string[] {
  const diffs: string[] = [];
  if (ours.status !== theirs.status) diffs.push(`status ${ours.status} ≠ ${theirs.status}`);
  for (const h of EXACT_HEADERS) {
    if (ours.headers[h] !== theirs.headers[h]) {
      diffs.push(`header ${h}: ${ours.headers[h] ?? '(none)'} ≠ ${theirs.headers[h] ?? '(none)'}`);
    }
  }
  // The two writes happen at different instants: last-modified is compared by presence.
  if (
    (ours.headers['last-modified'] === undefined) !==
    (theirs.headers['last-modified'] === undefined)
  ) {
    diffs.push(
      `header last-modified: ${ours.headers['last-modified'] ?? '(none)'} ≠ ${theirs.headers['last-modified'] ?? '(none)'}`,
    );
  }
  const location = (r: Reply, name: (u: string) => string) =>
    r.headers['location']?.replace(/^https?:\/\/[^/]+/, '<base>').replace(UUID, name);
  const lo = location(ours, names.ours);
  const lt = location(theirs, names.theirs);
  if (lo !== lt) diffs.push(`header location: ${lo ?? '(none)'} ≠ ${lt ?? '(none)'}`);
  for (const [side, r] of [
    ['ours', ours],
    ['theirs', theirs],
  ] as const) {
    if (!REQUEST_ID.test(r.headers['x-openstack-request-id'] ?? '')) {
      diffs.push(
        `${side}: x-openstack-request-id ${r.headers['x-openstack-request-id'] ?? '(none)'}`,
      );
    }
  }
  const a = normalizedBody(ours, names.ours);
  const b = normalizedBody(theirs, names.theirs);
  const same =
    a.value !== undefined && b.value !== undefined
      ? isDeepStrictEqual(a.value, b.value)
      : a.text === b.text;
  if (!same) {
    diffs.push(
      `body:\n      ours:   ${a.text.slice(0, 1500)}\n      theirs: ${b.text.slice(0, 1500)}`,
    );
  }
  return diffs;
}

export interface SequenceReport {
  name: string;
  steps: number;
  /** Steps where the real placement did not answer what the sequence says it does. */
  wrongExpectations: string[];
  /** Steps whose two answers differ. */
  differences: string[];
  /** Rows of the sequence that differ between the two databases. */
  rows: string[];
}

const resolve = <T>(d: Dyn<T>, v: Vars): T =>
  typeof d === 'function' ? (d as (v: Vars) => T)(v) : d;

/** Runs one sequence on both sides, step by step, then compares its rows. */
export async function runSequence(
  pair: WritePair,
  seq: Sequence,
  tag: string,
): Promise<SequenceReport> {
  const ids = new SequenceIds(tag);
  const steps = seq.steps(ids);
  const keys = ids.keysByUuid();
  const vars = { ours: {} as Vars, theirs: {} as Vars };
  const report: SequenceReport = {
    name: seq.name,
    steps: steps.length,
    wrongExpectations: [],
    differences: [],
    rows: [],
  };
  const show = (s: string) =>
    s.replace(UUID, (u) => (keys.has(u.toLowerCase()) ? `<${keys.get(u.toLowerCase())}>` : u));
  for (const [i, step] of steps.entries()) {
    const build = (v: Vars) => {
      const body = step.body === undefined ? undefined : resolve(step.body, v);
      return {
        method: step.method,
        path: resolve(step.path, v),
        version: step.version,
        body: step.rawBody ?? (body === undefined ? undefined : toPythonJson(body)),
        headers: step.headers,
      };
    };
    const ro = build(vars.ours);
    const rt = build(vars.theirs);
    const [ours, theirs] = await Promise.all([send(pair.ours.url, ro), send(pair.theirs.url, rt)]);
    for (const [name, get] of Object.entries(step.capture ?? {})) {
      for (const [side, r] of [
        ['ours', ours],
        ['theirs', theirs],
      ] as const) {
        // A capture that finds nothing (a refused write) keeps what it had.
        try {
          const value = get(r);
          if (value !== undefined) vars[side][name] = value;
        } catch {
          // keep the earlier value
        }
      }
    }
    const where = `step ${i + 1} "${step.name}": ${rt.method} ${show(rt.path)} @${step.version ?? '1.0'}`;
    if (theirs.status !== step.status) {
      report.wrongExpectations.push(
        `${where}\n    placement answered ${theirs.status}, the sequence expects ${step.status}: ${show(theirs.text.slice(0, 400))}`,
      );
    }
    const diffs = replyDifferences(ours, theirs, {
      ours: uuidNamer(keys, vars.ours),
      theirs: uuidNamer(keys, vars.theirs),
    });
    if (diffs.length > 0) {
      const sent = rt.body === undefined ? '' : `\n    sent: ${show(rt.body).slice(0, 600)}`;
      report.differences.push(`${where}${sent}\n    ${diffs.join('\n    ')}`);
    }
  }
  report.rows = await rowDifferences(pair, ids, vars);
  return report;
}

const MAX_SHOWN = 8;

/** A failing report as one readable block. */
export function formatReport(r: SequenceReport, engine: string): string {
  const parts: string[] = [];
  if (r.wrongExpectations.length > 0) {
    parts.push(
      `real placement did not answer as the sequence expects:\n  ${r.wrongExpectations.join('\n  ')}`,
    );
  }
  if (r.differences.length > 0) {
    // The first differences say what is wrong; later steps mostly follow from them.
    const shown = r.differences.slice(0, MAX_SHOWN);
    const more = r.differences.length - shown.length;
    parts.push(
      `${r.differences.length} of ${r.steps} answers differ:\n  ${shown.join('\n  ')}${more > 0 ? `\n  … and ${more} more` : ''}`,
    );
  }
  if (r.rows.length > 0) parts.push(`rows differ:\n  ${r.rows.join('\n  ')}`);
  return parts.length === 0 ? '' : `[${engine}] sequence "${r.name}"\n${parts.join('\n')}`;
}

// --- Rows ------------------------------------------------------------------

type Rows = Map<string, Map<string, string>>;

/**
 * Reads the placement tables by natural key (names, uuids, external ids),
 * ids and timestamps aside: the two databases assign ids in their own
 * order, which no client sees.
 */
async function readState(db: Database, name: (u: string) => string): Promise<Rows> {
  const k = db.knex;
  const tables = new Set(await db.dialect.listTables(k));
  const state: Rows = new Map();
  const put = (table: string, key: string, value: unknown) => {
    let m = state.get(table);
    if (!m) state.set(table, (m = new Map()));
    // The same natural key twice (two allocation rows alike) is itself a difference: count them.
    const prior = m.get(key);
    m.set(key, prior === undefined ? JSON.stringify(value) : `${prior} + ${JSON.stringify(value)}`);
  };
  const all = async (table: string) =>
    tables.has(table) ? ((await k(table).select('*')) as Record<string, unknown>[]) : [];
  const byId = <T>(rows: Record<string, unknown>[], f: (r: Record<string, unknown>) => T) =>
    new Map(rows.map((r) => [Number(r['id']), f(r)]));

  const providers = await all('resource_providers');
  const rpName = byId(providers, (r) => String(r['name']));
  const rp = (id: unknown) =>
    id === null || id === undefined ? null : (rpName.get(Number(id)) ?? `dangling-rp-${id}`);
  const classes = await all('resource_classes');
  const rcName = byId(classes, (r) => String(r['name']));
  const rc = (id: unknown) => rcName.get(Number(id)) ?? `dangling-rc-${id}`;
  const traits = await all('traits');
  const traitName = byId(traits, (r) => String(r['name']));
  const projects = await all('projects');
  const projectExt = byId(projects, (r) => String(r['external_id']));
  const users = await all('users');
  const userExt = byId(users, (r) => String(r['external_id']));
  const aggregates = await all('placement_aggregates');
  const aggUuid = byId(aggregates, (r) => String(r['uuid']));
  const types = await all('consumer_types');
  const typeName = byId(types, (r) => String(r['name']));
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

  for (const r of classes) put('resource_classes', String(r['name']), {});
  for (const r of traits) put('traits', String(r['name']), {});
  for (const r of projects) put('projects', String(r['external_id']), {});
  for (const r of users) put('users', String(r['external_id']), {});
  for (const r of aggregates) put('placement_aggregates', String(r['uuid']), {});
  for (const r of types) put('consumer_types', String(r['name']), {});
  for (const r of providers) {
    put('resource_providers', String(r['name']), {
      uuid: String(r['uuid']).replace(UUID, name),
      generation: num(r['generation']),
      parent: rp(r['parent_provider_id']),
      root: rp(r['root_provider_id']),
    });
  }
  for (const r of await all('inventories')) {
    put('inventories', `${rp(r['resource_provider_id'])} ${rc(r['resource_class_id'])}`, {
      total: num(r['total']),
      reserved: num(r['reserved']),
      min_unit: num(r['min_unit']),
      max_unit: num(r['max_unit']),
      step_size: num(r['step_size']),
      // A FLOAT column: MySQL keeps single precision.
      allocation_ratio: Number(Number(r['allocation_ratio']).toPrecision(6)),
    });
  }
  for (const r of await all('allocations')) {
    put(
      'allocations',
      `${rp(r['resource_provider_id'])} ${r['consumer_id']} ${rc(r['resource_class_id'])}`,
      { used: num(r['used']) },
    );
  }
  for (const r of await all('consumers')) {
    put('consumers', String(r['uuid']), {
      project: projectExt.get(Number(r['project_id'])) ?? `dangling-project-${r['project_id']}`,
      user: userExt.get(Number(r['user_id'])) ?? `dangling-user-${r['user_id']}`,
      generation: num(r['generation']),
      consumer_type:
        r['consumer_type_id'] === null || r['consumer_type_id'] === undefined
          ? null
          : (typeName.get(Number(r['consumer_type_id'])) ??
            `dangling-type-${r['consumer_type_id']}`),
    });
  }
  for (const r of await all('resource_provider_aggregates')) {
    const agg = aggUuid.get(Number(r['aggregate_id'])) ?? `dangling-agg-${r['aggregate_id']}`;
    put('resource_provider_aggregates', `${rp(r['resource_provider_id'])} ${agg}`, {});
  }
  for (const r of await all('resource_provider_traits')) {
    const trait = traitName.get(Number(r['trait_id'])) ?? `dangling-trait-${r['trait_id']}`;
    put('resource_provider_traits', `${rp(r['resource_provider_id'])} ${trait}`, {});
  }
  return state;
}

/**
 * The rows of one sequence that differ between the two databases: rows
 * whose natural key carries the sequence's tag or one of its uuids, and
 * any row that points at nothing (which placement never leaves behind).
 * Without a sequence, every row: what no sequence owns (the standard
 * traits and classes synced at start-up, the incomplete consumers'
 * project and user) is compared once, at the end.
 */
async function rowDifferences(
  pair: WritePair,
  ids?: SequenceIds,
  vars: { ours: Vars; theirs: Vars } = { ours: {}, theirs: {} },
): Promise<string[]> {
  const keys = ids?.keysByUuid() ?? new Map<string, string>();
  const [oursDb, theirsDb] = await Promise.all([pair.oursDb.open(), pair.theirsDb.open()]);
  let ours: Rows;
  let theirs: Rows;
  try {
    [ours, theirs] = await Promise.all([
      readState(oursDb, uuidNamer(keys, vars.ours)),
      readState(theirsDb, uuidNamer(keys, vars.theirs)),
    ]);
  } finally {
    await Promise.all([oursDb.close(), theirsDb.close()]);
  }
  const tag = ids?.tag.toLowerCase();
  const mine = (key: string) => {
    if (tag === undefined) return true;
    const lower = key.toLowerCase();
    if (lower.includes(tag) || lower.includes('dangling-')) return true;
    return (lower.match(UUID) ?? []).some((u) => keys.has(u));
  };
  const show = (s: string) =>
    s.replace(UUID, (u) => (keys.has(u.toLowerCase()) ? `<${keys.get(u.toLowerCase())}>` : u));
  const out: string[] = [];
  for (const table of new Set([...ours.keys(), ...theirs.keys()])) {
    const o = ours.get(table) ?? new Map<string, string>();
    const t = theirs.get(table) ?? new Map<string, string>();
    for (const key of [...new Set([...o.keys(), ...t.keys()])].filter(mine).sort()) {
      if (o.get(key) !== t.get(key)) {
        out.push(
          `${table} ${show(key)}: ours ${o.get(key) ?? '(missing)'} ≠ placement ${t.get(key) ?? '(missing)'}`,
        );
      }
    }
  }
  return out;
}

/** Every row of the two databases that differs, whichever sequence made it (at most `limit`). */
export async function allRowDifferences(pair: WritePair, limit = 40): Promise<string[]> {
  const diffs = await rowDifferences(pair);
  return diffs.length > limit
    ? [...diffs.slice(0, limit), `… and ${diffs.length - limit} more`]
    : diffs;
}
