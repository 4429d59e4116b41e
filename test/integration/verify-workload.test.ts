/**
 * `verify --workload` on targets migrated from generated sources of every
 * release that stored placement data differently, on every engine: on a
 * scratch copy (the target never written), and against live services —
 * `api serve` and the real placement 8.0.0 — which must end byte-for-byte
 * as they began, also after Ctrl-C in the middle. Broken targets and broken
 * services must fail the step that meets them, with the request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import type { Engine } from '../../src/db/url.js';
import type { WorkloadReport } from '../../src/workload/index.js';
import {
  freePort,
  realPlacementServiceForTests,
  startOurApi,
  startRealPlacement,
  type RunningService,
} from '../helpers/api-services.js';
import { parseJson, runCli, runWatching } from '../helpers/cli.js';
import { freshDatabases, testEngines, withOpen, type TestDatabase } from '../helpers/databases.js';
import { describeEach } from '../helpers/each.js';
import { novaApiSource } from '../helpers/nova-api.js';
import { startProxy } from '../helpers/placement-proxy.js';
import { tableDigests } from '../helpers/table-digest.js';

const fresh = freshDatabases();
const RELEASES = ['newton', 'pike', 'queens', 'rocky', 'train'] as const;

/** A target migrated from a generated source of `release` (at `revision`, default head). */
async function migratedTarget(
  engine: Engine,
  release: string,
  seed: number,
  revision?: string,
  size: { providers: number; consumers: number } = { providers: 8, consumers: 30 },
): Promise<TestDatabase> {
  const source = await novaApiSource(fresh, engine, `wl_src_${release}`, {
    release,
    ...size,
    seed,
    flaws: { orphans: false },
  });
  const target = await fresh(engine, `wl_dst_${release}`);
  const m = await runCli([
    'migrate',
    '--source',
    source.url,
    '--target',
    target.url,
    '--apply',
    ...(revision ? ['--revision', revision] : []),
    '--json',
  ]);
  expect(m.code, `${m.stdout}\n${m.stderr}`).toBe(0);
  return target;
}

function digests(db: TestDatabase): Promise<Record<string, string>> {
  return withOpen(db, tableDigests);
}

function workload(
  args: string[],
): Promise<{ code: number | null; report: WorkloadReport; stderr: string }> {
  return runCli(['verify', '--workload', '--json', ...args]).then((r) => {
    const report = parseJson<WorkloadReport>(r);
    if (!Array.isArray(report.steps)) {
      throw new Error(`no workload report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    return { code: r.code, report, stderr: r.stderr };
  });
}

const STEPS = [
  'baseline',
  'hosts',
  'inventory-report',
  'schedule',
  'cold-migrate',
  'resize-revert',
  'delete',
  'reshape',
];

function expectAllPassed(report: WorkloadReport): void {
  const failed = report.steps.find((s) => s.state !== 'pass');
  expect(failed, JSON.stringify(failed, null, 2)).toBeUndefined();
  expect(report.steps.map((s) => s.step)).toEqual(STEPS);
  expect(report.ok).toBe(true);
}

describeEach(testEngines())('verify --workload on a scratch copy (%s)', (engine) => {
  for (const [i, release] of RELEASES.entries()) {
    it(`passes on a target migrated from ${release}, and leaves the target as it was`, async () => {
      const target = await migratedTarget(engine, release, 40 + i);
      const before = await digests(target);
      const { code, report } = await workload(['--target', target.url, '--seed', String(i + 1)]);
      expectAllPassed(report);
      expect(code).toBe(0);
      expect(report.mode).toBe('scratch');
      expect(report.steps.find((s) => s.step === 'schedule')!.summary).toMatch(
        /^[1-9]\d* of \d+ flavors scheduled/,
      );
      expect(await digests(target)).toEqual(before);
    });
  }

  it.runIf(engine === 'sqlite')(
    'a full cloud: the new compute nodes take what the hosts of the data cannot',
    async () => {
      // 500 instances on 13 hosts leave no room for another of their flavors.
      const target = await migratedTarget(engine, 'pike', 49, undefined, {
        providers: 13,
        consumers: 500,
      });
      const { code, report } = await workload(['--target', target.url]);
      expectAllPassed(report);
      expect(code).toBe(0);
      expect(report.steps.find((s) => s.step === 'schedule')!.summary).toBe(
        '3 of 3 flavors scheduled and claimed',
      );
    },
  );

  it.runIf(engine !== 'sqlite')(
    'copies into a scratch database named by --scratch, and refuses a used one',
    async () => {
      const target = await migratedTarget(engine, 'rocky', 51);
      const scratch = await fresh(engine, 'wl_scratch');
      const ok = await workload(['--target', target.url, '--scratch', scratch.url]);
      expectAllPassed(ok.report);
      // The same scratch again holds placement's tables now: refused, nothing written.
      const again = await runCli([
        'verify',
        '--workload',
        '--target',
        target.url,
        '--scratch',
        scratch.url,
      ]);
      expect(again.code, again.stderr).toBe(21);
      expect(again.stderr).toMatch(/already holds placement tables/);
    },
  );
});

describe.runIf(testEngines().includes('sqlite'))(
  'verify --workload on the bundled sample cloud',
  () => {
    it("passes for several seeds on the README's migration of it (nested trees, GPUs, old flaws)", async () => {
      const target = await fresh('sqlite', 'wl_sample');
      const m = await runCli(['migrate', '--source', 'sample', '--target', target.url, '--apply']);
      expect(m.code, m.stderr).toBe(0);
      for (const seed of ['1', '2', '3', '4']) {
        const { code, report } = await workload(['--target', target.url, '--seed', seed]);
        expectAllPassed(report);
        expect(code, `seed ${seed}`).toBe(0);
      }
    });
  },
);

describe('verify --workload finds a broken target and names the request', () => {
  const engine: Engine = 'sqlite';

  async function damaged(
    seed: number,
    change: (db: Database) => Promise<void>,
  ): Promise<TestDatabase> {
    const target = await migratedTarget(engine, 'rocky', seed);
    await withOpen(target, change);
    return target;
  }

  it('a provider whose root is another tree', async () => {
    const broken = await damaged(61, async (db) => {
      const roots = (await db
        .knex('resource_providers')
        .whereNull('parent_provider_id')
        .orderBy('id')
        .select('id')) as {
        id: number;
      }[];
      await db
        .knex('resource_providers')
        .where({ id: roots[0]!.id })
        .update({ root_provider_id: roots[1]!.id });
    });
    const { code, report } = await workload(['--target', broken.url]);
    expect(code).toBe(27);
    const failed = report.steps.find((s) => s.state === 'fail')!;
    expect(failed.step).toBe('baseline');
    expect(failed.failure!.message).toMatch(/no parent but its root is/);
    expect(failed.failure!.request!.path).toBe('/resource_providers');
    expect(failed.failure!.response!.status).toBe(200);
  });

  it('an inventory below its usage', async () => {
    const broken = await damaged(62, async (db) => {
      const used = (await db
        .knex('allocations')
        .select('resource_provider_id', 'resource_class_id')
        .sum({ used: 'used' })
        .groupBy('resource_provider_id', 'resource_class_id')
        .having(db.knex.raw('SUM(used) > 1'))
        .first()) as { resource_provider_id: number; resource_class_id: number };
      await db
        .knex('inventories')
        .where({
          resource_provider_id: used.resource_provider_id,
          resource_class_id: used.resource_class_id,
        })
        .update({ total: 1, reserved: 0, allocation_ratio: 1 });
    });
    const { code, report } = await workload(['--target', broken.url]);
    expect(code).toBe(27);
    const failed = report.steps.find((s) => s.state === 'fail')!;
    expect(failed.step).toBe('baseline');
    expect(failed.failure!.message).toMatch(/of a capacity of 1 /);
    expect(failed.failure!.request!.path).toMatch(/^\/resource_providers\/[0-9a-f-]+\/usages$/);
  });
});

describe.runIf(testEngines().includes('sqlite'))('verify --workload finds a broken service', () => {
  let target: TestDatabase;
  let api: RunningService | undefined;
  beforeAll(async () => {
    target = await migratedTarget('sqlite', 'queens', 71);
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('a consumer generation that does not advance', async () => {
    // The service stores every consumer generation and never moves it on.
    await withOpen(target, (db) =>
      db.knex.raw(
        `CREATE TRIGGER stuck_generation AFTER UPDATE OF generation ON consumers
           BEGIN UPDATE consumers SET generation = OLD.generation WHERE id = NEW.id; END`,
      ),
    );
    api = await startOurApi(target.url, []);
    try {
      const { code, report } = await workload(['--endpoint', api.url, '--token', 'admin']);
      expect(code).toBe(27);
      const failed = report.steps.find((s) => s.state === 'fail')!;
      expect(failed.failure!.message).toMatch(
        /generation went from (\d+) to \1; every write must advance it by one/,
      );
      expect(failed.failure!.request!.method).toBe('POST');
      expect(failed.failure!.request!.path).toBe('/allocations');
      // Even so, the run's own objects are gone.
      expect(report.cleanup!.left).toEqual([]);
    } finally {
      await api.stop();
      api = undefined;
      await withOpen(target, (db) => db.knex.raw('DROP TRIGGER stuck_generation'));
    }
  });

  it('a reshaper that drops an allocation', async () => {
    api = await startOurApi(target.url, []);
    // What the service is sent loses the VGPU part of every consumer's allocations.
    const proxy = await startProxy(api.url, {
      match: (method, path) => method === 'POST' && path === '/reshaper',
      rewrite: (body) => {
        const b = body as {
          allocations: Record<
            string,
            { allocations: Record<string, { resources: Record<string, number> }> }
          >;
        };
        for (const c of Object.values(b.allocations)) {
          for (const [rp, a] of Object.entries(c.allocations))
            if ('VGPU' in a.resources) delete c.allocations[rp];
        }
        return b;
      },
    });
    try {
      const { code, report } = await workload(['--endpoint', proxy.url, '--token', 'admin']);
      expect(proxy.matched()).toBe(1);
      expect(code).toBe(27);
      const failed = report.steps.find((s) => s.state === 'fail')!;
      expect(failed.step).toBe('reshape');
      expect(failed.failure!.message).toMatch(/did not leave consumer .* holding what was sent/);
      expect(failed.failure!.request!.path).toMatch(/^\/allocations\//);
      expect(report.cleanup!.left).toEqual([]);
    } finally {
      await proxy.close();
      await api.stop();
      api = undefined;
    }
  });
});

describe('verify --workload against a live service ends with the database as it began', () => {
  const engines = testEngines();
  const real = realPlacementServiceForTests();

  for (const engine of engines) {
    it(`api serve on ${engine}`, async () => {
      const target = await migratedTarget(engine, 'pike', 81);
      const api = await startOurApi(target.url, []);
      try {
        // api serve adds the standard traits and classes when it starts: the state to keep is after that.
        const before = await digests(target);
        const { code, report } = await workload([
          '--endpoint',
          api.url,
          '--token',
          'admin',
          '--sample',
          '4',
        ]);
        expectAllPassed(report);
        expect(code).toBe(0);
        expect(report.cleanup!.left).toEqual([]);
        expect(report.cleanup!.removed.providers).toBe(5);
        expect(await digests(target)).toEqual(before);
      } finally {
        await api.stop();
      }
    });
  }

  for (const engine of engines.filter((e) => e !== 'sqlite')) {
    it.runIf(real)(`the real placement 8.0.0 on ${engine} passes the same steps`, async () => {
      const target = await migratedTarget(engine, 'train', 91, 'zed');
      const service = await startRealPlacement(target.url, { processes: 1, threads: 4 });
      try {
        const before = await digests(target);
        const { code, report } = await workload(['--endpoint', service.url, '--token', 'admin']);
        expectAllPassed(report);
        expect(code).toBe(0);
        expect(await digests(target)).toEqual(before);
      } finally {
        await service.stop();
      }
    });
  }

  it.runIf(engines.includes('sqlite'))(
    'an empty cloud: it still runs, and says which rows placement keeps',
    async () => {
      const target = await fresh('sqlite', 'wl_empty');
      const sync = await runCli(['db', 'sync', '--placement-url', target.url]);
      expect(sync.code, sync.stderr).toBe(0);
      const api = await startOurApi(target.url, []);
      try {
        const before = await digests(target);
        const { code, report } = await workload(['--endpoint', api.url, '--token', 'admin']);
        expectAllPassed(report);
        expect(code).toBe(0);
        expect(report.cleanup!.kept).toEqual([
          'project placement-upgrade-workload',
          'user placement-upgrade-workload',
        ]);
        // Only the project and user rows placement keeps differ.
        const after = await digests(target);
        const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
        expect(changed.sort()).toEqual(['projects', 'users']);
      } finally {
        await api.stop();
      }
    },
  );

  it.runIf(engines.includes('mysql'))(
    'Ctrl-C in the middle: the run stops, removes its objects, exits 130',
    async () => {
      const target = await migratedTarget('mysql', 'rocky', 95);
      const api = await startOurApi(target.url, []);
      // The cold migration's POST /allocations waits at the proxy until the run has been interrupted.
      const proxy = await startProxy(api.url, {
        match: (method, path) => method === 'POST' && path === '/allocations',
        hold: true,
      });
      try {
        const before = await digests(target);
        let interruptedWhileHeld = false;
        const run = runWatching(
          ['verify', '--workload', '--endpoint', proxy.url, '--token', 'admin'],
          (line) => line.startsWith('ok   schedule:'),
          async (child) => {
            await proxy.held;
            child.kill('SIGINT');
          },
          (line) => {
            if (line.startsWith('SIGINT: stopping before the next request')) {
              interruptedWhileHeld = proxy.matched() === 1;
              proxy.release();
            }
          },
        );
        const r = await run;
        expect(r.actError).toBeNull();
        expect(interruptedWhileHeld, r.lines.join('\n')).toBe(true);
        expect(r.code, r.lines.join('\n')).toBe(130);
        // Interrupted in the cold migration, never later: the steps after it did not run.
        expect(r.lines.some((l) => l.startsWith('ok   cold-migrate'))).toBe(false);
        expect(r.lines.some((l) => l.startsWith('ok   cleanup: removed'))).toBe(true);
        expect(await digests(target)).toEqual(before);
      } finally {
        await proxy.close();
        await api.stop();
      }
    },
  );
});

describe('verify --workload refuses what it cannot use', () => {
  it('a malformed endpoint (7), an unreachable one (5), a refused token (9), --source with it (1)', async () => {
    const bad = await runCli(['verify', '--workload', '--endpoint', 'ftp://x']);
    expect(bad.code, bad.stderr).toBe(7);
    expect(bad.stderr).toMatch(/must be an http or https URL/);
    const unreachable = await runCli([
      'verify',
      '--workload',
      '--endpoint',
      `http://127.0.0.1:${await freePort()}`,
    ]);
    expect(unreachable.code, unreachable.stderr).toBe(5);
    expect(unreachable.stderr).toMatch(/Cannot reach the Placement API .*refused/);
    const target = await migratedTarget(testEngines()[0]!, 'rocky', 97);
    const api = await startOurApi(target.url, ['--auth-token', 'sekrit']);
    try {
      const refused = await runCli([
        'verify',
        '--workload',
        '--endpoint',
        api.url,
        '--token',
        'wrong',
      ]);
      expect(refused.code, refused.stderr).toBe(9);
      expect(refused.stderr).toMatch(/refused the token \(HTTP 401\)/);
      expect(refused.stderr).not.toMatch(/wrong/);
    } finally {
      await api.stop();
    }
    const both = await runCli([
      'verify',
      '--workload',
      '--target',
      target.url,
      '--source',
      target.url,
    ]);
    expect(both.code, both.stderr).toBe(1);
  });
});
