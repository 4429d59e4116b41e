/**
 * Policy and CORS of `api serve` against the real placement 8.0.0 with the
 * same placement.conf (ours reads the very file uwsgi's placement reads):
 * policy files overriding rules, policy.d, a JSON policy.json found by its
 * default name, enforce_scope and enforce_new_defaults on and off, CORS
 * allowed_origin with placement's defaults and with every [cors] option
 * set. Read requests from callers of every kind (X-Auth-Token user:project,
 * X-Roles, OpenStack-System-Scope, X-Domain-Id, X-Project-Id), CORS
 * preflights and simple requests from allowed and other origins, and a
 * policy file changed while both serve. Required in CI.
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, differences, type ApiCall, type Exchange } from '../helpers/api-compare.js';
import {
  realPlacementServiceForTests,
  serveExpectingRefusal,
  startOurApi,
  startRealPlacement,
  type ConfSections,
  type RunningService,
} from '../helpers/api-services.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';
import { buildPlacementCloud, type CloudFacts } from '../helpers/placement-cloud.js';

const available = realPlacementServiceForTests();

// Policy does not depend on the engine: one is enough, the cheapest there is.
const engines = testEngines();
const engine = engines.includes('sqlite') ? 'sqlite' : engines[0]!;

const yaml = (rules: Record<string, string>) =>
  Object.entries(rules)
    .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join('\n');

interface Setup {
  name: string;
  conf: ConfSections;
  files: Record<string, string>;
  cors: boolean;
}

const OPERATOR_POLICY = {
  'placement:resource_providers:list': 'role:reader',
  'placement:resource_providers:show':
    'rule:admin_api or project_id:%(project_id)s and role:member',
  admin_api: 'role:admin or role:operator',
  'placement:traits:list': 'rule:admin_api',
  system_reader_api: 'role:reader and system_scope:all or role:auditor',
  'placement:usages': 'rule:system_or_project_reader or role:billing',
};

const SETUPS: Setup[] = [
  {
    name: 'a policy file overriding rules, CORS with placement defaults',
    conf: {
      oslo_policy: { policy_file: 'policy.yaml' },
      cors: { allowed_origin: 'http://valid.example.com, http://other.example.com' },
    },
    files: { 'policy.yaml': yaml(OPERATOR_POLICY) },
    cors: true,
  },
  {
    name: 'enforce_scope and enforce_new_defaults, policy.d, every CORS option',
    conf: {
      oslo_policy: { enforce_scope: 'true', enforce_new_defaults: 'true' },
      cors: {
        allowed_origin: '*',
        allow_credentials: 'false',
        expose_headers: 'X-Openstack-Request-Id',
        max_age: '0',
        allow_methods: 'GET,OPTIONS',
        allow_headers: 'X-Auth-Token,X-Roles,OpenStack-API-Version',
      },
    },
    files: {
      'policy.d/10-traits.yaml': yaml({ 'placement:traits:show': '@' }),
      'policy.d/20-classes.yaml': yaml({
        'placement:resource_classes:list': 'role:reader',
        'placement:usages': 'project_id:%(project_id)s',
      }),
    },
    cors: true,
  },
  {
    name: 'enforce_scope alone, no CORS',
    conf: { oslo_policy: { enforce_scope: 'True' } },
    files: {},
    cors: false,
  },
  {
    name: 'enforce_new_defaults alone, policy.json by its default name',
    conf: { oslo_policy: { enforce_new_defaults: 'True' } },
    files: {
      'policy.json': JSON.stringify({ 'placement:resource_providers:usages': 'role:reader' }),
    },
    cors: false,
  },
];

function callers(project: string): Record<string, string>[] {
  return [
    { 'x-auth-token': 'admin' },
    { 'x-auth-token': 'admin', 'openstack-system-scope': 'all' },
    { 'x-auth-token': `alice:${project}`, 'x-roles': 'reader' },
    { 'x-auth-token': `alice:${project}`, 'x-roles': 'reader', 'openstack-system-scope': 'all' },
    { 'x-auth-token': 'alice:p1', 'x-roles': 'reader' },
    { 'x-auth-token': 'bob', 'x-roles': 'member' },
    { 'x-auth-token': `carl:${project}`, 'x-roles': 'member' },
    { 'x-auth-token': 'dan', 'x-roles': 'operator' },
    { 'x-auth-token': 'ed', 'x-roles': 'auditor', 'openstack-system-scope': 'all' },
    { 'x-auth-token': 'fay:p1', 'x-roles': 'billing' },
    { 'x-auth-token': 'gus:p1', 'x-roles': 'admin', 'x-domain-id': 'd1' },
    { 'x-auth-token': 'hana:p1', 'x-roles': 'reader', 'x-project-id': project },
    { 'x-auth-token': 'ian' },
  ];
}

function reads(facts: CloudFacts): [string, string][] {
  const rp = facts.computeNodes[0]!;
  const consumer = facts.consumers[0]!;
  const project = facts.projects[0]!;
  return [
    ['/resource_providers', '1.0'],
    [`/resource_providers/${rp}`, '1.14'],
    [`/resource_providers/${rp}/inventories`, '1.0'],
    [`/resource_providers/${rp}/usages`, '1.0'],
    [`/resource_providers/${rp}/aggregates`, '1.19'],
    [`/resource_providers/${rp}/traits`, '1.6'],
    [`/resource_providers/${rp}/allocations`, '1.0'],
    ['/traits', '1.6'],
    ['/traits/HW_CPU_X86_AVX', '1.6'],
    ['/resource_classes', '1.2'],
    ['/resource_classes/VCPU', '1.2'],
    [`/allocations/${consumer}`, '1.12'],
    [`/usages?project_id=${project}`, '1.9'],
    ['/usages?project_id=p1', '1.9'],
    ['/usages', '1.9'],
  ];
}

function policyCalls(facts: CloudFacts): ApiCall[] {
  const out: ApiCall[] = [];
  for (const headers of callers(facts.projects[0]!)) {
    for (const [path, version] of reads(facts)) out.push({ path, version, headers });
  }
  return out;
}

function corsCalls(facts: CloudFacts): ApiCall[] {
  const rp = facts.computeNodes[0]!;
  const valid = 'http://valid.example.com';
  const preflight = (path: string, headers: Record<string, string>, token = false): ApiCall => ({
    method: 'OPTIONS',
    path,
    headers,
    noToken: !token,
  });
  return [
    preflight('/', {
      origin: valid,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'openstack-api-version',
    }),
    preflight('/resource_providers', {
      origin: valid,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'X-Auth-Token, X-Roles',
    }),
    preflight('/resource_providers', {
      origin: 'http://other.example.com',
      'access-control-request-method': 'PUT',
    }),
    preflight('/resource_providers', {
      origin: 'http://invalid.example.com',
      'access-control-request-method': 'GET',
    }),
    preflight(`/resource_providers/${rp}`, {
      origin: valid,
      'access-control-request-method': 'DELETE',
    }),
    preflight('/traits', { origin: valid, 'access-control-request-method': 'HEAD' }),
    preflight('/traits', {
      origin: valid,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'x-custom',
    }),
    preflight('/traits', { origin: valid }),
    preflight('/traits', { 'access-control-request-method': 'GET' }),
    preflight(
      `/resource_providers/${rp}`,
      { origin: valid, 'access-control-request-method': 'GET', 'content-type': 'text/plain' },
      true,
    ),
    preflight('/nothere', { origin: valid, 'access-control-request-method': 'GET' }, true),
    { path: '/resource_providers', headers: { origin: valid } },
    { path: '/resource_providers', headers: { origin: 'http://other.example.com' } },
    { path: '/resource_providers', headers: { origin: 'http://invalid.example.com' } },
    { path: '/', headers: { origin: valid }, noToken: true },
    { path: '/resource_providers', headers: { origin: valid }, noToken: true },
    { path: '/nothere', headers: { origin: valid } },
    { path: '/traits', version: '1.5', headers: { origin: valid } },
    { path: '/traits', version: '1.6', headers: { origin: valid, 'x-auth-token': 'nobody' } },
    { method: 'HEAD', path: '/resource_providers', headers: { origin: valid } },
    { method: 'POST', path: '/resource_providers', headers: { origin: valid, 'x-roles': 'x' } },
  ];
}

/** status, placement's headers and body (differences), plus every CORS header and an empty preflight body. */
function allDifferences(a: Exchange, b: Exchange, c: ApiCall): string[] {
  const diffs = differences(a, b);
  const names = new Set(
    [...Object.keys(a.headers), ...Object.keys(b.headers)].filter((h) =>
      h.startsWith('access-control-'),
    ),
  );
  for (const h of [...names].sort()) {
    if (a.headers[h] !== b.headers[h]) {
      diffs.push(`header ${h}: ${a.headers[h] ?? '(none)'} ≠ ${b.headers[h] ?? '(none)'}`);
    }
  }
  // A preflight's answer is empty on both sides (other bodies are compared as JSON above).
  const preflightAnswer =
    a.headers['content-length'] === '0' || b.headers['content-length'] === '0';
  if (
    c.method === 'OPTIONS' &&
    preflightAnswer &&
    a.headers['content-length'] !== b.headers['content-length']
  ) {
    diffs.push(`content-length ${a.headers['content-length']} ≠ ${b.headers['content-length']}`);
  }
  return diffs;
}

async function compareAll(ours: string, theirs: string, calls: ApiCall[]) {
  const found: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const c = calls[next++]!;
      const [a, b] = await Promise.all([call(ours, c), call(theirs, c)]);
      statuses.set(b.status, (statuses.get(b.status) ?? 0) + 1);
      const diffs = allDifferences(a, b, c);
      if (diffs.length > 0) {
        found.push(
          `${c.method ?? 'GET'} ${c.path} @${c.version ?? '-'} ${JSON.stringify(c.headers ?? {})}${c.noToken ? ' (no token)' : ''}\n  ${diffs.join('\n  ')}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return { found, statuses };
}

describe.runIf(available)(
  `api serve enforces placement.conf as placement 8.0.0 (${engine})`,
  () => {
    let database: TestDatabase;
    let facts: CloudFacts;

    beforeAll(async () => {
      database = await createTestDatabase(engine, 'api_policy');
      const db = await database.open();
      try {
        facts = await buildPlacementCloud(db, { computeNodes: 3, seed: 11 });
      } finally {
        await db.close();
      }
    }, 120_000);

    afterAll(async () => {
      await database?.drop();
    });

    describe.each(SETUPS)('$name', (setup) => {
      let theirs: RunningService;
      let ours: RunningService;

      beforeAll(async () => {
        theirs = await startRealPlacement(database.url, { conf: setup.conf, files: setup.files });
        ours = await startOurApi(database.url, [
          '--read-only',
          '--placement-config',
          theirs.configFile!,
        ]);
      }, 180_000);

      afterAll(async () => {
        // Ours first: the real service's stop removes the directory of the shared placement.conf.
        await ours?.stop();
        await theirs?.stop();
      });

      it('decides every read for every caller as placement does', async () => {
        const { found, statuses } = await compareAll(ours.url, theirs.url, policyCalls(facts));
        expect(found.slice(0, 12).join('\n\n'), `${found.length} differ`).toBe('');
        // The setup must both allow and refuse, or it tests nothing.
        expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
        expect(statuses.get(403) ?? 0).toBeGreaterThan(0);
      });

      it(`answers preflights and adds CORS headers as placement does${setup.cors ? '' : ' (none: OPTIONS is a 405)'}`, async () => {
        const { found } = await compareAll(ours.url, theirs.url, corsCalls(facts));
        expect(found.slice(0, 12).join('\n\n'), `${found.length} differ`).toBe('');
      });
    });

    it('reloads a policy file that changes while serving, as placement does', async () => {
      const setup = SETUPS[0]!;
      const theirs = await startRealPlacement(database.url, {
        conf: setup.conf,
        files: setup.files,
      });
      let ours: RunningService | undefined;
      try {
        ours = await startOurApi(database.url, [
          '--read-only',
          '--placement-config',
          theirs.configFile!,
        ]);
        const reader = { 'x-auth-token': 'zed:p5', 'x-roles': 'reader' };
        const list: ApiCall = { path: '/resource_providers', headers: reader };
        const before = await Promise.all([call(ours.url, list), call(theirs.url, list)]);
        expect(before.map((e) => e.status)).toEqual([200, 200]);
        const file = theirs.configFile!.replace(/placement\.conf$/, 'policy.yaml');
        writeFileSync(file, yaml({ ...OPERATOR_POLICY, 'placement:resource_providers:list': '!' }));
        // oslo.policy reloads on a newer modification time: make it unmistakably newer.
        const later = new Date(Date.now() + 5000);
        utimesSync(file, later, later);
        const after = await Promise.all([call(ours.url, list), call(theirs.url, list)]);
        expect(after.map((e) => e.status)).toEqual([403, 403]);
        expect(allDifferences(after[0], after[1], list)).toEqual([]);
        expect(ours.log()).toMatch(/Policy reloaded/);
      } finally {
        await ours?.stop();
        await theirs.stop();
      }
    }, 180_000);

    it('refuses to start on a policy file that does not parse (exit 2, one paragraph and a hint)', async () => {
      const theirs = await startRealPlacement(database.url, {});
      try {
        const file = theirs.configFile!;
        const dir = file.replace(/\/placement\.conf$/, '');
        writeFileSync(`${dir}/bad.conf`, '[oslo_policy]\npolicy_file = bad.yaml\n');
        writeFileSync(`${dir}/bad.yaml`, '"placement:usages": "role:reader or"\n');
        const r = await serveExpectingRefusal([
          '--placement-url',
          database.url,
          '--placement-config',
          `${dir}/bad.conf`,
          '--port',
          '0',
          '--read-only',
        ]);
        const label = `exit ${r.code}${r.listening ? ', and it started listening' : ''}\n${r.stderr}`;
        expect(r.listening, label).toBe(false);
        expect(r.code, label).toBe(2);
        expect(r.stderr, label).toMatch(/"placement:usages": "role:reader or" does not parse/);
        expect(r.stderr, label).toMatch(/Hint: .*policy_file/);
        expect(r.stderr, label).not.toMatch(/\n\s+at /);
      } finally {
        await theirs.stop();
      }
    }, 120_000);
  },
);
