/**
 * `placement-upgrade api serve` as an operator runs it, on every engine:
 * read-only never writes, read-write syncs the standard traits and classes
 * as placement does, binding and tokens, several instances on one database,
 * a clean stop on SIGTERM; values no engine can store answered as placement
 * answers them (never a 500), and a refusal to start without placement's
 * schema.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { call } from '../helpers/api-compare.js';
import {
  serveExpectingRefusal,
  startOurApi,
  type RunningService,
} from '../helpers/api-services.js';
import { runCli } from '../helpers/cli.js';
import {
  createTestDatabase,
  freshDatabases,
  testEngines,
  type TestDatabase,
} from '../helpers/databases.js';
import { buildPlacementCloud, type CloudFacts } from '../helpers/placement-cloud.js';
import type { Database } from '../../src/db/connect.js';
import { PLACEMENT_TABLES, syncSchema } from '../../src/schema/migrator.js';
import { standardResourceClasses, standardTraits } from '../../src/standard/standard-names.js';

async function rowCounts(database: TestDatabase): Promise<Record<string, number>> {
  const db = await database.open();
  try {
    const out: Record<string, number> = {};
    for (const t of PLACEMENT_TABLES) {
      const [row] = await db.knex(t).count({ n: '*' });
      out[t] = Number((row as { n: number | string }).n);
    }
    return out;
  } finally {
    await db.close();
  }
}

/** What an error document says beyond the status's standard explanation. */
function detailOf(body: string): string {
  const { detail } = (JSON.parse(body) as { errors: { detail: string }[] }).errors[0]!;
  return detail.slice(detail.indexOf('\n\n') + 2).trim();
}

describeEach(testEngines())('api serve on %s', (engine) => {
  const fresh = freshDatabases();
  let database: TestDatabase;
  let facts: CloudFacts;
  const running: RunningService[] = [];
  const start = async (args: string[]) => {
    const s = await startOurApi(database.url, args);
    running.push(s);
    return s;
  };

  beforeAll(async () => {
    database = await createTestDatabase(engine, 'api_serve');
    const db = await database.open();
    try {
      facts = await buildPlacementCloud(db, { computeNodes: 4, seed: 3 });
    } finally {
      await db.close();
    }
  });

  afterAll(async () => {
    await Promise.allSettled(running.map((s) => s.stop()));
    await database?.drop();
  });

  it('--read-only writes nothing, not even the standard traits, and refuses writes with 403', async () => {
    const before = await rowCounts(database);
    const api = await start(['--read-only']);
    const rp = facts.computeNodes[0]!;
    for (const [method, path] of [
      ['POST', '/resource_providers'],
      ['PUT', `/resource_providers/${rp}/traits`],
      ['DELETE', `/resource_providers/${rp}`],
      ['PUT', '/traits/CUSTOM_NEW'],
      ['DELETE', `/allocations/${facts.consumers[0]}`],
    ] as const) {
      const r = await call(api.url, {
        method,
        path,
        version: '1.39',
        headers: method === 'DELETE' ? {} : { 'content-type': 'application/json' },
      });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(JSON.parse(r.body).errors[0]).toMatchObject({
        status: 403,
        code: 'placement.undefined_code',
      });
      expect(r.headers['vary']).toBe('openstack-api-version');
    }
    // Below its microversion a write route is still a 404, as in placement.
    expect(
      (await call(api.url, { method: 'POST', path: '/allocations', version: '1.12' })).status,
    ).toBe(404);
    // The standard classes are shown as placement would after its start, though never inserted.
    const list = await call(api.url, { path: '/resource_classes', version: '1.2' });
    expect(list.status).toBe(200);
    expect(
      new Set(JSON.parse(list.body).resource_classes.map((c: { name: string }) => c.name)),
    ).toEqual(new Set([...standardResourceClasses(), ...facts.customClasses]));
    const storage = facts.providers.find((p) => p.name.startsWith('shared-storage'))!.uuid;
    const inv = await call(api.url, {
      path: `/resource_providers/${storage}/inventories`,
      version: '1.39',
    });
    expect(inv.status).toBe(200);
    expect(Object.keys(JSON.parse(inv.body).inventories)).toEqual(['DISK_GB']);
    expect(await rowCounts(database)).toEqual(before);
  });

  it('without --read-only syncs the standard traits and classes at start-up, with their ids', async () => {
    const api = await start([]);
    expect(api.log()).toMatch(/Standard data synced: \d+ traits, 21 resource classes added/);
    const traits = JSON.parse((await call(api.url, { path: '/traits', version: '1.6' })).body)
      .traits as string[];
    expect(new Set(traits)).toEqual(new Set([...standardTraits(), ...facts.customTraits]));
    const db = await database.open();
    try {
      const rows = await db
        .knex('resource_classes')
        .select('id', 'name')
        .where('id', '<', 10000)
        .orderBy('id');
      expect(rows.map((r: { id: number; name: string }) => [Number(r.id), r.name])).toEqual(
        standardResourceClasses().map((name, id) => [id, name]),
      );
    } finally {
      await db.close();
    }
    // It writes: a custom trait made through one instance…
    const w = await call(api.url, { method: 'PUT', path: '/traits/CUSTOM_X', version: '1.6' });
    expect(w.status).toBe(201);
    // …is there for a second instance on the same database, which syncs nothing and serves the same data.
    const second = await start([]);
    expect(second.log()).toMatch(/Standard data synced: 0 traits, 0 resource classes added/);
    const seen = await call(second.url, { path: '/traits/CUSTOM_X', version: '1.6' });
    expect(seen.status).toBe(204);
    const a = await call(api.url, { path: '/resource_providers', version: '1.39' });
    const b = await call(second.url, { path: '/resource_providers', version: '1.39' });
    expect(JSON.parse(a.body)).toEqual(JSON.parse(b.body));
  });

  it('with --auth-token answers 401 to any other token and serves its holder', async () => {
    const api = await start(['--read-only', '--auth-token', 's3cret']);
    expect((await call(api.url, { path: '/resource_providers' })).status).toBe(401);
    expect(
      (await call(api.url, { path: '/resource_providers', headers: { 'x-auth-token': 's3cret' } }))
        .status,
    ).toBe(200);
    expect((await call(api.url, { path: '/', noToken: true })).status).toBe(200);
    expect(api.log()).not.toContain('s3cret');
  });

  it('refuses a non-loopback address without a token', async () => {
    const r = await runCli([
      'api',
      'serve',
      '--placement-url',
      database.url,
      '--host',
      '0.0.0.0',
      '--read-only',
      '--port',
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0 without a token/);
  });

  it('answers values no engine can store as placement 8.0.0 does, never with a 500', async () => {
    const api = await start(['--read-only']);
    const rp = facts.computeNodes[0]!;
    const project = facts.projects[0]!;
    const none = { resource_providers: [] };
    // [path, microversion, status, body (parsed JSON) or a pattern for the error detail]
    const cases: [string, string, number, unknown][] = [
      // Beyond MAX_INT (placement's INT columns) no inventory can hold the amount: no provider.
      ['/resource_providers?resources=VCPU:2147483648', '1.39', 200, none],
      ['/resource_providers?resources=VCPU:9223372036854775808', '1.39', 200, none],
      ['/resource_providers?resources=VCPU:99999999999999999999999', '1.4', 200, none],
      ['/resource_providers?resources=VCPU:1,MEMORY_MB:99999999999999999999999', '1.39', 200, none],
      [
        '/resource_providers?resources=VCPU:-99999999999999999999999',
        '1.39',
        400,
        /requires amount >= 1\. Got: -99999999999999999999999\.$/,
      ],
      // NUL: nothing stored holds one, so nothing matches (PostgreSQL cannot even compare it).
      [
        '/resource_providers/%00abc',
        '1.39',
        404,
        new RegExp(`No resource provider with uuid ${String.fromCharCode(0)}abc found`),
      ],
      [`/resource_providers/${rp}%00/inventories`, '1.39', 404, /No resource provider with uuid/],
      [`/resource_providers/${rp}%00/usages`, '1.39', 404, /No resource provider with uuid/],
      ['/resource_providers?name=a%00b', '1.39', 200, none],
      ['/allocations/%00', '1.39', 200, { allocations: {} }],
      ['/usages?project_id=%00', '1.9', 200, { usages: {} }],
      [`/usages?project_id=${project}&user_id=%00`, '1.9', 200, { usages: {} }],
      [`/usages?project_id=${project}&consumer_type=all%00`, '1.38', 200, { usages: {} }],
      ['/traits?name=in:COMPUTE_NODE,a%00', '1.6', 200, { traits: ['COMPUTE_NODE'] }],
      ['/traits?name=startswith:COMPUTE_NODE%00', '1.6', 200, { traits: [] }],
      // A query string that is not UTF-8: placement's own 400 (its validation catches the decode error).
      [
        '/resource_providers?name=%FF',
        '1.39',
        400,
        /^Invalid query string parameters: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte$/,
      ],
      [
        '/traits?name=in:%E2%82',
        '1.6',
        400,
        /'utf-8' codec can't decode bytes in position 3-4: unexpected end of data$/,
      ],
      [`/usages?project_id=${project}&user_id=%ED%A0%80`, '1.9', 400, /invalid continuation byte$/],
    ];
    const wrong: string[] = [];
    for (const [path, version, status, expected] of cases) {
      const r = await call(api.url, { path, version });
      const ok =
        r.status === status &&
        (expected instanceof RegExp
          ? expected.test(detailOf(r.body))
          : JSON.stringify(JSON.parse(r.body)) === JSON.stringify(expected));
      if (!ok) wrong.push(`${path} @${version}: ${r.status} ${r.body.slice(0, 300)}`);
    }
    expect(wrong.join('\n')).toBe('');
  });

  it("refuses to start without placement's schema: exit 12, what is wrong and what to run", async () => {
    const empty = await fresh(engine, 'api_serve_empty');
    if (engine === 'sqlite') {
      // An empty SQLite file: the URL names a database, but not one placement's.
      const db = await empty.open();
      await db.close();
    }
    const unknown = await fresh(engine, 'api_serve_unknown_rev');
    const partial = await fresh(engine, 'api_serve_partial');
    // Placement's schema, then changed the way the test needs it.
    const withSchema = async (target: TestDatabase, change: (db: Database) => Promise<unknown>) => {
      const db = await target.open();
      try {
        await syncSchema(db, { target: 'zed' });
        await change(db);
      } finally {
        await db.close();
      }
    };
    await withSchema(unknown, (db) =>
      db.knex('alembic_version').update({ version_num: 'deadbeefcafe' }),
    );
    await withSchema(partial, (db) => db.knex.schema.dropTable('resource_provider_traits'));
    // The message names the database and what is wrong; the hint what to run.
    const cases: [TestDatabase, RegExp, RegExp][] = [
      [
        empty,
        /Refusing to serve \S+: it has no placement tables \(no alembic revision\), so every route of the API would fail\./,
        /Create or complete placement's schema with "placement-upgrade db sync"/,
      ],
      [
        unknown,
        /Refusing to serve \S+: the database is stamped with revision "deadbeefcafe"/,
        /Upgrade placement-upgrade/,
      ],
      [
        partial,
        /Refusing to serve \S+: placement's table resource_provider_traits is missing \(revision [0-9a-f]{12}\)/,
        /Create or complete placement's schema with "placement-upgrade db sync"/,
      ],
    ];
    for (const [target, message, hint] of cases) {
      for (const readOnly of [['--read-only'], []]) {
        const r = await serveExpectingRefusal([
          '--placement-url',
          target.url,
          '--port',
          '0',
          ...readOnly,
        ]);
        const label = `${target.name} ${readOnly.join(' ')}: exit ${r.code}${r.listening ? ', and it started listening' : ''}\n${r.stderr}`;
        expect(r.listening, label).toBe(false);
        expect(r.code, label).toBe(12);
        expect(r.stderr, label).toMatch(message);
        expect(r.stderr, label).toMatch(hint);
        // One paragraph and its hint: no stack trace.
        expect(r.stderr, label).not.toMatch(/^\s+at /m);
      }
    }
    // --json: one error document with the exit code.
    const json = await serveExpectingRefusal([
      '--placement-url',
      empty.url,
      '--port',
      '0',
      '--json',
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { code: 'schema_state', exitCode: 12, hint: expect.stringMatching(/db sync/) },
    });
    // Nothing was written: a read-write start would have synced the standard traits first.
    const db = await empty.open();
    try {
      expect(await db.dialect.listTables(db.knex)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it.runIf(engine === 'sqlite')('does not create a missing SQLite file', async () => {
    const url = database.url.replace(/\.sqlite$/, '-missing.sqlite');
    const r = await serveExpectingRefusal(['--placement-url', url, '--port', '0', '--read-only']);
    expect(r.listening).toBe(false);
    expect(r.code, r.stderr).toBe(10);
    expect(existsSync(url.replace(/^sqlite:\/\/\//, ''))).toBe(false);
  });

  it('stops cleanly on SIGTERM and reports what it served', async () => {
    const api = await start(['--read-only', '--json']);
    await call(api.url, { path: '/resource_providers' });
    await api.stop();
    expect(api.log()).toMatch(/Stopping: finishing requests in flight/);
    expect(api.log()).toMatch(/"requests": 2/);
  });
});
