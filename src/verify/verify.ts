/**
 * `verify`: the proof of a migration is what placement tells nova. This
 * starts the embedded Placement API in-process on the target, read-only,
 * and compares what it serves with what the nova_api rows imply — or,
 * without a source, checks that the target is consistent as the API sees it.
 */
import { PlacementApi, type ApiRequest } from '../api/app.js';
import { standardResourceClasses } from '../standard/standard-names.js';
import { PlacementStore } from '../api/store/index.js';
import type { Database } from '../db/connect.js';
import { SchemaStateError } from '../errors/errors.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import {
  DEFAULT_INCOMPLETE,
  expectedFromSource,
  type ExpectedCloud,
  type IncompleteConsumerIds,
} from './expected.js';
import { readNovaPlacementData } from './nova-source.js';

/** One thing the API shows differently from what it should. */
export interface Difference {
  /** What kind of object: provider, consumer, project, resource_class, tree, capacity … */
  subject: string;
  /** Its identity (a UUID, a project id, a class name). */
  id: string;
  /** Which part differs, as a dotted path (inventories.VCPU.total). */
  field: string;
  expected: unknown;
  actual: unknown;
  /** The request that showed it. */
  request: string;
}

export interface VerifyReport {
  mode: 'source' | 'self';
  ok: boolean;
  counts: {
    providers: number;
    consumers: number;
    projects: number;
    resourceClasses: number;
    requests: number;
  };
  /** Source rows that no API route can show (dangling references in nova_api). */
  unreachableSourceRows?: ExpectedCloud['unreachable'];
  differenceCount: number;
  differences: Difference[];
  /**
   * What the API cannot show because the source data is broken the same way
   * (e.g. a resource class id that does not exist): equal, but nova will see
   * errors there too.
   */
  warnings: Difference[];
}

export interface VerifyOptions {
  target: Database;
  source?: Database;
  incomplete?: IncompleteConsumerIds;
  /** Requests in flight at once. */
  concurrency?: number;
  onProgress?: ProgressListener;
}

type Json = Record<string, unknown>;

/** A read-only, in-process client of the embedded API. */
class ApiReader {
  requests = 0;
  constructor(private readonly api: PlacementApi) {}

  async get(path: string, version: string): Promise<{ status: number; body: Json; label: string }> {
    this.requests += 1;
    const q = path.indexOf('?');
    const req: ApiRequest = {
      method: 'GET',
      rawPath: q === -1 ? path : path.slice(0, q),
      query: q === -1 ? '' : path.slice(q + 1),
      headers: { 'x-auth-token': 'admin', 'openstack-api-version': `placement ${version}` },
    };
    const res = await this.api.handle(req);
    let body: Json = {};
    try {
      body = res.body ? (JSON.parse(res.body) as Json) : {};
    } catch {
      body = { raw: res.body };
    }
    return { status: res.status, body, label: `GET ${path} @${version}` };
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, runner));
}

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Counts finished items and reports every `every`-th one (and the last) as a step. */
function stepCounter(
  progress: ProgressListener,
  step: string,
  label: string,
  total: number,
  every: number,
): () => void {
  let done = 0;
  return () => {
    done += 1;
    if (done % every === 0 || done === total) {
      progress({ type: 'step', step, message: `${label}: ${done}/${total}` });
    }
  };
}

function sameNumber(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    // FLOAT columns (allocation_ratio) may round differently between engines.
    return a === b || Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return false;
}

/** Field-by-field comparison; arrays are compared as sets. */
function compareValue(
  expected: unknown,
  actual: unknown,
  field: string,
  report: (field: string, expected: unknown, actual: unknown) => void,
): void {
  if (isObject(expected) && isObject(actual)) {
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      const f = field ? `${field}.${key}` : key;
      if (!(key in actual)) report(f, expected[key], undefined);
      else if (!(key in expected)) report(f, undefined, actual[key]);
      else compareValue(expected[key], actual[key], f, report);
    }
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const a = [...expected].map(String).sort();
    const b = [...actual].map(String).sort();
    if (a.join('\u0000') !== b.join('\u0000')) {
      report(
        field,
        a.filter((x) => !b.includes(x)),
        b.filter((x) => !a.includes(x)),
      );
    }
    return;
  }
  if (expected === actual || sameNumber(expected, actual)) return;
  report(field, expected, actual);
}

class Collector {
  readonly differences: Difference[] = [];
  readonly warnings: Difference[] = [];

  add(d: Difference): void {
    this.differences.push(d);
  }

  /**
   * For a route the source data already breaks: placement answers 404 there
   * too. Recorded as a warning when it does; a difference when it does not.
   */
  broken(
    subject: string,
    id: string,
    res: { status: number; label: string },
    broken: { status: number; reason: string },
  ): void {
    const d = {
      subject,
      id,
      field: 'status',
      expected: broken.status,
      actual: res.status,
      request: res.label,
    };
    if (res.status === broken.status)
      this.warnings.push({ ...d, actual: `${res.status}: ${broken.reason}` });
    else this.add(d);
  }

  /** Compares and records each differing field under one subject. */
  compare(
    subject: string,
    id: string,
    request: string,
    expected: unknown,
    actual: unknown,
    field = '',
  ): void {
    compareValue(expected, actual, field, (f, e, a) =>
      this.add({ subject, id, field: f, expected: e, actual: a, request }),
    );
  }

  /** Records a request that did not answer 200. */
  status(subject: string, id: string, res: { status: number; body: Json; label: string }): boolean {
    if (res.status === 200) return true;
    const errors = res.body['errors'] as { detail?: string }[] | undefined;
    this.add({
      subject,
      id,
      field: 'status',
      expected: 200,
      actual: `${res.status}${errors?.[0]?.detail ? `: ${errors[0].detail.replace(/^.*\n\n /s, '').trim()}` : ''}`,
      request: res.label,
    });
    return false;
  }
}

async function compareWithSource(
  reader: ApiReader,
  expected: ExpectedCloud,
  out: Collector,
  concurrency: number,
  progress: ProgressListener,
): Promise<void> {
  const V = '1.39';
  // The provider list: exactly the expected providers, no more, no fewer.
  const list = await reader.get('/resource_providers', V);
  if (out.status('providers', '*', list)) {
    const listed = new Set(
      (list.body['resource_providers'] as { uuid: string }[]).map((p) => p.uuid),
    );
    for (const uuid of expected.providers.keys()) {
      if (!listed.has(uuid)) {
        out.add({
          subject: 'provider',
          id: uuid,
          field: 'listed',
          expected: true,
          actual: false,
          request: list.label,
        });
      }
    }
    for (const uuid of listed) {
      if (!expected.providers.has(uuid)) {
        out.add({
          subject: 'provider',
          id: uuid,
          field: 'listed',
          expected: false,
          actual: true,
          request: list.label,
        });
      }
    }
  }

  const providers = [...expected.providers.values()];
  const providerDone = stepCounter(progress, 'providers', 'Providers', providers.length, 100);
  await pool(providers, concurrency, async (e) => {
    const base = `/resource_providers/${e.uuid}`;
    const rp = await reader.get(base, V);
    if (out.status('provider', e.uuid, rp)) {
      out.compare(
        'provider',
        e.uuid,
        rp.label,
        {
          name: e.name,
          generation: e.generation,
          parent_provider_uuid: e.parentUuid,
          root_provider_uuid: e.rootUuid,
        },
        {
          name: rp.body['name'],
          generation: rp.body['generation'],
          parent_provider_uuid: rp.body['parent_provider_uuid'],
          root_provider_uuid: rp.body['root_provider_uuid'],
        },
      );
    }
    const parts: [string, string, unknown][] = [
      ['inventories', 'inventories', e.inventories],
      ['usages', 'usages', e.usages],
      ['allocations', 'allocations', e.allocations],
      ['aggregates', 'aggregates', e.aggregates],
      ['traits', 'traits', e.traits],
    ];
    for (const [sub, key, want] of parts) {
      const res = await reader.get(`${base}/${sub}`, V);
      const broken = e.broken[sub as keyof typeof e.broken];
      if (broken) {
        out.broken('provider', e.uuid, res, broken);
        continue;
      }
      if (!out.status('provider', e.uuid, res)) continue;
      out.compare('provider', e.uuid, res.label, want, res.body[key], key);
      if (res.body['resource_provider_generation'] !== e.generation) {
        out.add({
          subject: 'provider',
          id: e.uuid,
          field: `${sub}.resource_provider_generation`,
          expected: e.generation,
          actual: res.body['resource_provider_generation'],
          request: res.label,
        });
      }
    }
    providerDone();
  });

  const consumers = [...expected.consumers.values()];
  const consumerDone = stepCounter(progress, 'consumers', 'Consumers', consumers.length, 200);
  await pool(consumers, concurrency, async (e) => {
    const res = await reader.get(`/allocations/${e.uuid}`, '1.38');
    if (e.broken) out.broken('consumer', e.uuid, res, e.broken);
    else if (out.status('consumer', e.uuid, res)) {
      const want = {
        allocations: e.allocations,
        project_id: e.project_id,
        user_id: e.user_id,
        consumer_generation: e.consumer_generation,
        consumer_type: e.consumer_type,
      };
      out.compare('consumer', e.uuid, res.label, want, res.body);
    }
    consumerDone();
  });

  const projects = [...expected.projects.values()];
  await pool(projects, concurrency, async (p) => {
    const q = `/usages?project_id=${encodeURIComponent(p.externalId)}`;
    const total = await reader.get(q, '1.9');
    if (p.broken) {
      out.broken('project', p.externalId, total, p.broken);
      return;
    }
    if (out.status('project', p.externalId, total)) {
      out.compare('project', p.externalId, total.label, p.usages, total.body['usages'], 'usages');
    }
    const all = await reader.get(`${q}&consumer_type=all`, '1.38');
    if (out.status('project', p.externalId, all)) {
      const usages = (all.body['usages'] as Record<string, Json>)?.['all'] ?? {};
      out.compare(
        'project',
        p.externalId,
        all.label,
        p.consumerCount,
        usages['consumer_count'] ?? 0,
        'consumer_count',
      );
    }
  });
  progress({ type: 'step', step: 'projects', message: `Projects: ${projects.length}` });

  const classes = await reader.get('/resource_classes', '1.7');
  if (out.status('resource_class', '*', classes)) {
    const names = new Set(
      (classes.body['resource_classes'] as { name: string }[]).map((c) => c.name),
    );
    const standard = new Set(standardResourceClasses());
    for (const name of expected.customClasses) {
      if (!names.has(name)) {
        out.add({
          subject: 'resource_class',
          id: name,
          field: 'listed',
          expected: true,
          actual: false,
          request: classes.label,
        });
      }
    }
    const custom = new Set(expected.customClasses);
    for (const name of names) {
      if (!standard.has(name) && !custom.has(name)) {
        out.add({
          subject: 'resource_class',
          id: name,
          field: 'listed',
          expected: false,
          actual: true,
          request: classes.label,
        });
      }
    }
  }
}

interface Seen {
  providers: number;
  consumers: number;
  projects: number;
}

async function checkSelfConsistency(
  reader: ApiReader,
  target: Database,
  out: Collector,
  concurrency: number,
  progress: ProgressListener,
): Promise<Seen> {
  const V = '1.39';
  const list = await reader.get('/resource_providers', V);
  if (!out.status('providers', '*', list)) return { providers: 0, consumers: 0, projects: 0 };
  const providers = list.body['resource_providers'] as Json[];
  const byUuid = new Map(providers.map((p) => [String(p['uuid']), p]));

  // Providers the API cannot see at all (a NULL or dangling root hides them).
  const [row] = await target.knex('resource_providers').count({ n: '*' });
  const rows = Number((row as { n: number | string }).n);
  if (rows !== providers.length) {
    out.add({
      subject: 'providers',
      id: '*',
      field: 'visible',
      expected: rows,
      actual: providers.length,
      request: list.label,
    });
  }

  // Every provider reachable in its tree.
  const roots = new Map<string, Set<string>>();
  for (const p of providers) {
    const uuid = String(p['uuid']);
    const root = String(p['root_provider_uuid']);
    const parent = p['parent_provider_uuid'] as string | null;
    if (!byUuid.has(root)) {
      out.add({
        subject: 'tree',
        id: uuid,
        field: 'root_provider_uuid',
        expected: 'a listed provider',
        actual: root,
        request: list.label,
      });
    }
    if (parent !== null && !byUuid.has(parent)) {
      out.add({
        subject: 'tree',
        id: uuid,
        field: 'parent_provider_uuid',
        expected: 'a listed provider',
        actual: parent,
        request: list.label,
      });
    } else if (parent !== null && byUuid.get(parent)!['root_provider_uuid'] !== root) {
      out.add({
        subject: 'tree',
        id: uuid,
        field: 'root_provider_uuid',
        expected: byUuid.get(parent)!['root_provider_uuid'],
        actual: root,
        request: list.label,
      });
    }
    (roots.get(root) ?? roots.set(root, new Set()).get(root)!).add(uuid);
  }
  await pool([...roots.entries()], concurrency, async ([root, members]) => {
    const res = await reader.get(`/resource_providers?in_tree=${root}`, V);
    if (!out.status('tree', root, res)) return;
    const inTree = new Set(
      (res.body['resource_providers'] as Json[]).map((p) => String(p['uuid'])),
    );
    out.compare('tree', root, res.label, [...members], [...inTree], 'members');
  });

  // Per provider: capacity, and usages equal to the allocations visible through consumers.
  const consumerViews = new Map<string, Map<string, Record<string, number>>>();
  const providerDone = stepCounter(progress, 'providers', 'Providers', providers.length, 100);
  await pool(providers, concurrency, async (p) => {
    const uuid = String(p['uuid']);
    const base = `/resource_providers/${uuid}`;
    const [inv, use, alloc] = await Promise.all([
      reader.get(`${base}/inventories`, V),
      reader.get(`${base}/usages`, V),
      reader.get(`${base}/allocations`, V),
    ]);
    if (
      !out.status('provider', uuid, inv) ||
      !out.status('provider', uuid, use) ||
      !out.status('provider', uuid, alloc)
    ) {
      return;
    }
    const inventories = inv.body['inventories'] as Record<string, Record<string, number>>;
    const usages = use.body['usages'] as Record<string, number>;
    const allocations = alloc.body['allocations'] as Record<
      string,
      { resources: Record<string, number> }
    >;
    const visible: Record<string, number> = {};
    for (const [consumer, a] of Object.entries(allocations)) {
      const view = consumerViews.get(consumer) ?? new Map<string, Record<string, number>>();
      view.set(uuid, a.resources);
      consumerViews.set(consumer, view);
      for (const [rc, n] of Object.entries(a.resources)) visible[rc] = (visible[rc] ?? 0) + n;
    }
    for (const [rc, used] of Object.entries(usages)) {
      const i = inventories[rc]!;
      const capacity = (i['total']! - i['reserved']!) * i['allocation_ratio']!;
      if (used > capacity + 1e-9) {
        out.add({
          subject: 'capacity',
          id: uuid,
          field: rc,
          expected: `<= ${capacity}`,
          actual: used,
          request: use.label,
        });
      }
      if ((visible[rc] ?? 0) !== used) {
        out.add({
          subject: 'allocation',
          id: uuid,
          field: `usages.${rc}`,
          expected: `${used} (the usage)`,
          actual: `${visible[rc] ?? 0} visible through consumers`,
          request: alloc.label,
        });
      }
    }
    providerDone();
  });

  // Every allocation visible through its consumer, with a project and user.
  const projects = new Set<string>();
  await pool([...consumerViews.entries()], concurrency, async ([consumer, view]) => {
    const res = await reader.get(`/allocations/${consumer}`, '1.38');
    if (!out.status('consumer', consumer, res)) return;
    const allocations = res.body['allocations'] as Record<
      string,
      { resources: Record<string, number> }
    >;
    const actual: Record<string, Record<string, number>> = {};
    for (const [rp, a] of Object.entries(allocations)) if (byUuid.has(rp)) actual[rp] = a.resources;
    out.compare('consumer', consumer, res.label, Object.fromEntries(view), actual, 'allocations');
    if (typeof res.body['project_id'] !== 'string' || typeof res.body['user_id'] !== 'string') {
      out.add({
        subject: 'consumer',
        id: consumer,
        field: 'project_id/user_id',
        expected: 'both',
        actual: res.body,
        request: res.label,
      });
    } else {
      projects.add(res.body['project_id']);
    }
  });
  progress({ type: 'step', step: 'consumers', message: `Consumers: ${consumerViews.size}` });
  // Every project's usages answer (nova's quota checks read them).
  await pool([...projects], concurrency, async (project) => {
    const res = await reader.get(`/usages?project_id=${encodeURIComponent(project)}`, '1.9');
    out.status('project', project, res);
  });
  return { providers: providers.length, consumers: consumerViews.size, projects: projects.size };
}

/** Refuses a database without placement tables: there is nothing to compare. */
async function requirePlacementTables(db: Database, role: 'source' | 'target'): Promise<void> {
  const tables = await db.dialect.listTables(db.knex);
  if (tables.includes('resource_providers')) return;
  throw new SchemaStateError(
    role === 'target'
      ? `The target ${db.display} has no placement tables: there is nothing to verify.`
      : `The source ${db.display} has no placement tables (resource_providers): it is not a nova_api database with placement data.`,
    role === 'target'
      ? 'Run "placement-upgrade migrate --apply" first, or point --target at the placement database.'
      : 'Point --source at the nova_api database the data came from, or leave --source out to check the target on its own.',
  );
}

/** Verifies the target placement database; see the module comment. */
export async function verifyPlacement(options: VerifyOptions): Promise<VerifyReport> {
  const progress = options.onProgress ?? ignoreProgress;
  await requirePlacementTables(options.target, 'target');
  if (options.source) await requirePlacementTables(options.source, 'source');
  const concurrency = options.concurrency ?? 8;
  const store = new PlacementStore(options.target, { standardClassesIfMissing: true });
  const reader = new ApiReader(new PlacementApi(store, { readOnly: true }));
  const out = new Collector();
  let counts: VerifyReport['counts'];
  let unreachable: ExpectedCloud['unreachable'] | undefined;
  if (options.source) {
    progress({ type: 'step', step: 'source', message: 'Reading the nova_api placement tables' });
    const data = await readNovaPlacementData(options.source);
    const expected = expectedFromSource(
      data,
      standardResourceClasses(),
      options.incomplete ?? DEFAULT_INCOMPLETE,
    );
    unreachable = expected.unreachable;
    progress({
      type: 'step',
      step: 'compare',
      message: `Comparing ${expected.providers.size} providers, ${expected.consumers.size} consumers, ${expected.projects.size} projects`,
    });
    await compareWithSource(reader, expected, out, concurrency, progress);
    counts = {
      providers: expected.providers.size,
      consumers: expected.consumers.size,
      projects: expected.projects.size,
      resourceClasses: expected.customClasses.length,
      requests: reader.requests,
    };
  } else {
    progress({ type: 'step', step: 'self', message: 'Checking the target as the API sees it' });
    const seen = await checkSelfConsistency(reader, options.target, out, concurrency, progress);
    counts = { ...seen, resourceClasses: 0, requests: reader.requests };
  }
  return {
    mode: options.source ? 'source' : 'self',
    ok: out.differences.length === 0,
    counts,
    ...(unreachable ? { unreachableSourceRows: unreachable } : {}),
    differenceCount: out.differences.length,
    differences: out.differences,
    warnings: out.warnings,
  };
}
