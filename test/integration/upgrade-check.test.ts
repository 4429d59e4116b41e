/**
 * `upgrade check` on every engine: each condition built on a real placement
 * database, the exact details and exit code, the layout compared with what
 * oslo.upgradecheck itself prints, and placement's own three checks
 * compared with the real placement-status (8.0.0).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import {
  addProvider,
  insertId,
  insertMany,
  insertWithExplicitIds,
  placementDatabase,
  type PlacementTestDatabase,
} from '../helpers/placement-data.js';
import { createTestDatabase, testEngines, withOpen } from '../helpers/databases.js';
import {
  hasRealPlacement,
  osloUpgradeCheckOutput,
  placementStatus,
  writePlacementConf,
} from '../helpers/real-placement.js';
import { standardResourceClasses, standardTraits } from '../../src/standard/standard-names.js';
import type { Engine } from '../../src/db/url.js';

const realPlacement = hasRealPlacement();

interface Outcome {
  check: string;
  result: number;
  details: string | null;
}
interface Report {
  name: string;
  checks: Outcome[];
}

const TITLES = [
  'Missing Root Provider IDs',
  'Incomplete Consumers',
  'Policy File JSON to YAML Migration',
  'Unfinished Migration',
  'Database Revision',
  'Orphaned Records',
  'Capacity Exceeded',
  'Inventory Constraints',
  'Standard Traits and Resource Classes',
  'Nova-era Leftovers',
];
const OWN = TITLES.slice(0, 3);

/**
 * What a placement service that has run leaves: standard classes and
 * traits, a custom class, a compute node with a child provider, inventory,
 * consumers with allocations within capacity, an aggregate and a trait.
 */
async function healthy(
  engine: Engine,
  prefix: string,
  revision = 'a082b8bb98d0',
  options: { charset?: string } = {},
): Promise<PlacementTestDatabase & { compute: number; gpu: number }> {
  const t = await placementDatabase(engine, prefix, revision, options);
  const k = t.knex;
  await insertWithExplicitIds(
    k,
    'resource_classes',
    standardResourceClasses().map((name, id) => ({ id, name })),
  );
  await insertWithExplicitIds(k, 'resource_classes', [{ id: 10000, name: 'CUSTOM_GPU' }]);
  await insertMany(
    k,
    'traits',
    standardTraits().map((name) => ({ name })),
  );
  const compute = await addProvider(k, {
    name: 'compute-01',
    uuid: '11111111-1111-4111-8111-111111111111',
  });
  const gpu = await addProvider(k, { name: 'compute-01_gpu', parent: compute });
  const project = await insertId(k, 'projects', { external_id: 'p1' });
  const user = await insertId(k, 'users', { external_id: 'u1' });
  await k('inventories').insert([
    {
      resource_provider_id: compute,
      resource_class_id: 0,
      total: 16,
      reserved: 0,
      min_unit: 1,
      max_unit: 16,
      step_size: 1,
      allocation_ratio: 4.0,
    },
    {
      resource_provider_id: compute,
      resource_class_id: 1,
      total: 32768,
      reserved: 512,
      min_unit: 1,
      max_unit: 32768,
      step_size: 1,
      allocation_ratio: 1.5,
    },
    {
      resource_provider_id: gpu,
      resource_class_id: 10000,
      total: 2,
      reserved: 0,
      min_unit: 1,
      max_unit: 1,
      step_size: 1,
      allocation_ratio: 1.0,
    },
  ]);
  for (const [i, uuid] of [randomUUID(), randomUUID()].entries()) {
    await insertId(k, 'consumers', { uuid, project_id: project, user_id: user, generation: 1 });
    await k('allocations').insert([
      { resource_provider_id: compute, consumer_id: uuid, resource_class_id: 0, used: 4 },
      { resource_provider_id: compute, consumer_id: uuid, resource_class_id: 1, used: 2048 },
      ...(i === 0
        ? [{ resource_provider_id: gpu, consumer_id: uuid, resource_class_id: 10000, used: 1 }]
        : []),
    ]);
  }
  const aggregate = await insertId(k, 'placement_aggregates', { uuid: randomUUID() });
  await k('resource_provider_aggregates').insert({
    resource_provider_id: compute,
    aggregate_id: aggregate,
  });
  const trait = await k('traits').where({ name: 'COMPUTE_NODE' }).first('id');
  await k('resource_provider_traits').insert({ resource_provider_id: compute, trait_id: trait.id });
  return Object.assign(t, { compute, gpu });
}

async function check(
  t: PlacementTestDatabase,
  ...extra: string[]
): Promise<CliResult & { report: Report }> {
  // Each condition's own exit code: every check counted, unless the test says which.
  const checks =
    extra.includes('--checks') || extra.includes('--default') ? [] : ['--checks', 'all'];
  const args = extra.filter((a) => a !== '--default');
  const r = await runCli(
    ['upgrade', 'check', '--placement-url', t.url, '--json', ...checks, ...args],
    {
      env: { HOME: mkdtempSync(join(tmpdir(), 'pu-home-')) },
    },
  );
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, report };
}

const outcome = (report: Report, title: string) => report.checks.find((c) => c.check === title);

/** Every check succeeded but `title`, which gave `result` with exactly `details`. */
function expectOnly(
  r: CliResult & { report: Report },
  title: string,
  result: number,
  details: string,
): void {
  expect(r.report.checks.map((c) => c.check)).toEqual(TITLES);
  for (const c of r.report.checks) {
    if (c.check === title) expect(c).toEqual({ check: title, result, details });
    else expect(c, c.check).toEqual({ check: c.check, result: 0, details: null });
  }
  expect(r.code).toBe(result);
}

describeEach(testEngines())('upgrade check on %s', (engine) => {
  describe('a healthy database', () => {
    let t: PlacementTestDatabase;
    beforeAll(async () => {
      t = await healthy(engine, 'uc_healthy');
    });
    afterAll(() => t?.destroy());

    it("every check succeeds, exit 0, and the JSON is oslo.upgradecheck's to the byte", async () => {
      const r = await check(t);
      expect(r.report).toEqual({
        name: 'Upgrade Check Results',
        checks: TITLES.map((check) => ({ check, result: 0, details: null })),
      });
      expect(r.code).toBe(0);
      if (realPlacement) {
        const oslo = await osloUpgradeCheckOutput(r.report.checks, true);
        expect(r.stdout).toBe(oslo.stdout);
      }
    });

    it("the table is oslo.upgradecheck's", async () => {
      const r = await runCli(['upgrade', 'check', '--placement-url', t.url]);
      expect(r.code).toBe(0);
      // The widest line is "Check: Standard Traits and Resource Classes".
      expect(r.stdout.split('\n').slice(0, 7)).toEqual([
        '+---------------------------------------------+',
        '| Upgrade Check Results                       |',
        '+---------------------------------------------+',
        '| Check: Missing Root Provider IDs            |',
        '| Result: Success                             |',
        '| Details: None                               |',
        '+---------------------------------------------+',
      ]);
      if (realPlacement) {
        const json = await check(t);
        expect(r.stdout).toBe((await osloUpgradeCheckOutput(json.report.checks)).stdout);
      }
    });

    it('--release zed: the database is ahead of what Zed knows', async () => {
      const r = await check(t, '--release', 'zed');
      expectOnly(
        r,
        'Database Revision',
        2,
        'The database is at revision a082b8bb98d0 (2023.2), newer than placement zed knows (its head is 422ece571366); its placement-manage refuses the database. Run the placement release the database was upgraded for, or give that release to --release.',
      );
    });

    it('a bad --release cannot run: 255', async () => {
      const r = await runCli(['upgrade', 'check', '--placement-url', t.url, '--release', 'nope']);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/"nope" is not a placement release/);
    });
  });

  describe('Database Revision', () => {
    it('behind the release: the commands to run, online data migrations first before Train', async () => {
      const t = await healthy(engine, 'uc_rev_behind', 'b4ed3a175331');
      try {
        expectOnly(
          await check(t, '--release', 'zed'),
          'Database Revision',
          2,
          'The database is at revision b4ed3a175331 (stein), behind 422ece571366 (the head of placement zed). Run "placement-upgrade db online-data-migrations" first (Train\'s revisions refuse providers without a root and allocations without a consumer), then "placement-upgrade db sync --revision zed".',
        );
        await t.knex('alembic_version').update({ version_num: 'b5c396305c25' });
        expectOnly(
          await check(t, '--release', '2023.2'),
          'Database Revision',
          2,
          'The database is at revision b5c396305c25 (train), behind a082b8bb98d0 (the head of placement 2023.2). Run "placement-upgrade db sync --revision 2023.2".',
        );
        await t.knex('alembic_version').update({ version_num: '422ece571366' });
        expectOnly(await check(t, '--release', 'antelope'), 'Database Revision', 0, null as never);
      } finally {
        await t.destroy();
      }
    });

    it('unknown, or no revision at all', async () => {
      const t = await healthy(engine, 'uc_rev_unknown');
      try {
        await t.knex('alembic_version').update({ version_num: 'deadbeef0001' });
        const r = await check(t);
        expect(outcome(r.report, 'Database Revision')).toMatchObject({ result: 2 });
        expect(outcome(r.report, 'Database Revision')?.details).toMatch(
          /^The database is stamped with revision "deadbeef0001", which placement-upgrade does not know\./,
        );
        await t.knex.schema.dropTable('alembic_version');
        expectOnly(
          await check(t),
          'Database Revision',
          2,
          'The database has placement tables but no alembic revision, so neither placement-manage nor placement-upgrade knows their schema. If they were copied from nova_api (the upstream migrate-db script), run "placement-upgrade db stamp b4ed3a175331", then "placement-upgrade db online-data-migrations" and "placement-upgrade db sync --revision 2026.1".',
        );
      } finally {
        await t.destroy();
      }
    });
  });

  describe('which checks decide the exit code (--checks)', () => {
    let t: Awaited<ReturnType<typeof healthy>>;
    beforeAll(async () => {
      t = await healthy(engine, 'uc_gates');
      // An advisory finding (an orphan) and a placement-status one (a consumer without a row).
      await t.knex('allocations').insert({
        resource_provider_id: 9001,
        consumer_id: randomUUID(),
        resource_class_id: 0,
        used: 1,
      });
    });
    afterAll(() => t?.destroy());

    it("by default every check runs, the advisory ones' findings shown but not counted", async () => {
      const r = await check(t, '--default');
      expect(r.report.checks.map((c) => c.check)).toEqual(TITLES);
      expect(outcome(r.report, 'Orphaned Records')?.result).toBe(2);
      expect(outcome(r.report, 'Incomplete Consumers')?.result).toBe(1);
      // placement-status's code: Incomplete Consumers warns.
      expect(r.code).toBe(1);
      const text = await runCli(['upgrade', 'check', '--placement-url', t.url]);
      expect(text.code).toBe(1);
      expect(text.stderr).toContain(
        'Advisory, not counted in the exit code (--checks all counts them): Orphaned Records: Failure.',
      );
    });

    it('--checks all counts every check; names count the named ones', async () => {
      expect((await check(t, '--checks', 'all')).code).toBe(2);
      const named = await check(t, '--checks', 'orphaned-records,database-revision');
      expect(named.report.checks.map((c) => c.check)).toEqual([
        'Database Revision',
        'Orphaned Records',
      ]);
      expect(named.code).toBe(2);
      const mixed = await check(t, '--checks', 'placement,capacity-exceeded');
      expect(mixed.report.checks.map((c) => c.check)).toEqual([...OWN, 'Capacity Exceeded']);
      expect(mixed.code).toBe(1);
    });

    it("--checks placement: placement-status's three only", async () => {
      const r = await check(t, '--checks', 'placement');
      expect(r.report.checks.map((c) => c.check)).toEqual(OWN);
      expect(r.code).toBe(1);
    });

    it('an unknown check name cannot run: 255, listing the names', async () => {
      const r = await runCli(['upgrade', 'check', '--placement-url', t.url, '--checks', 'nope']);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/"nope" is not an upgrade check/);
      expect(r.stderr).toMatch(/orphaned-records, capacity-exceeded/);
    });

    it('a blocking check fails a default run: an unknown revision', async () => {
      const u = await healthy(engine, 'uc_gates_rev');
      try {
        await u.knex('alembic_version').update({ version_num: 'deadbeef0001' });
        const r = await check(u, '--default');
        expect(outcome(r.report, 'Database Revision')?.result).toBe(2);
        expect(r.code).toBe(2);
      } finally {
        await u.destroy();
      }
    });
  });

  describe('--release defaults to what the database says', () => {
    it("a database at 422ece571366 passes as xena's; --release names the one to be ready for", async () => {
      const t = await healthy(engine, 'uc_rel_default', '422ece571366');
      try {
        const r = await check(t, '--default');
        expect(r.report.checks.every((c) => c.result === 0)).toBe(true);
        expect(r.code).toBe(0);
        const text = await runCli(['upgrade', 'check', '--placement-url', t.url]);
        expect(text.code).toBe(0);
        expect(text.stderr).toContain(
          "Release: xena (from the database's revision 422ece571366; --release overrides)",
        );
        const newer = await check(t, '--default', '--release', '2026.1');
        expect(outcome(newer.report, 'Database Revision')?.result).toBe(2);
        expect(newer.code).toBe(2);
        // Between releases (an interrupted db sync): the next release's head is due.
        await t.knex('alembic_version').update({ version_num: '611cd6dffd7b' });
        const between = await check(t, '--default');
        expect(outcome(between.report, 'Database Revision')?.details).toBe(
          'The database is at revision 611cd6dffd7b (train), behind b5c396305c25 (the head of placement train). Run "placement-upgrade db online-data-migrations" first (Train\'s revisions refuse providers without a root and allocations without a consumer), then "placement-upgrade db sync --revision train".',
        );
        expect(between.code).toBe(2);
      } finally {
        await t.destroy();
      }
    });
  });

  describe.skipIf(!realPlacement)(
    'exit code by default: the same as placement-status 8.0.0',
    () => {
      it('on the sample cloud migrated with --revision zed: both exit 0', async () => {
        // A case-sensitive collation: the sample's names differ only in case (else migrate exits 23).
        const target = await createTestDatabase(engine, 'uc_zed', {
          charset: 'utf8mb4 COLLATE utf8mb4_bin',
        });
        try {
          const migrate = await runCli([
            'migrate',
            '--source',
            'sqlite:///fixtures/sample/nova_api.sqlite',
            '--target',
            target.url,
            '--apply',
            '--revision',
            'zed',
          ]);
          expect(migrate.code, migrate.stderr).toBe(0);
          const home = mkdtempSync(join(tmpdir(), 'pu-home-'));
          const conf = writePlacementConf(target.url);
          const real = await placementStatus(conf, ['upgrade', 'check'], home);
          const mine = await runCli(['upgrade', 'check', '--placement-config', conf], {
            env: { HOME: home },
          });
          expect(real.code, real.stdout + real.stderr).toBe(0);
          expect(mine.code, mine.stdout + mine.stderr).toBe(real.code);
          // The extra checks still say what they found.
          expect(mine.stdout).toMatch(/Check: Orphaned Records\s+\|\n\| Result: Failure/);
          const all = await runCli(
            ['upgrade', 'check', '--placement-config', conf, '--checks', 'all'],
            {
              env: { HOME: home },
            },
          );
          expect(all.code).toBe(2);
          // Missing consumers: placement-status warns, and so do we, whatever the advisory checks say.
          await withOpen(target, async (d) => {
            await d.knex('consumers').delete();
          });
          const realWarn = await placementStatus(conf, ['upgrade', 'check'], home);
          const mineWarn = await runCli(['upgrade', 'check', '--placement-config', conf], {
            env: { HOME: home },
          });
          expect(realWarn.code).toBe(1);
          expect(mineWarn.code).toBe(realWarn.code);
        } finally {
          await target.drop();
        }
      });
    },
  );

  describe('Orphaned Records', () => {
    let t: Awaited<ReturnType<typeof healthy>>;
    beforeAll(async () => {
      t = await healthy(engine, 'uc_orphans');
      const k = t.knex;
      await k('allocations').insert([
        { resource_provider_id: 9001, consumer_id: randomUUID(), resource_class_id: 0, used: 1 },
        { resource_provider_id: 9001, consumer_id: randomUUID(), resource_class_id: 0, used: 1 },
      ]);
      await k('inventories').insert({
        resource_provider_id: t.compute,
        resource_class_id: 10042,
        total: 1,
        reserved: 0,
        min_unit: 1,
        max_unit: 1,
        step_size: 1,
        allocation_ratio: 1,
      });
      await k('resource_provider_aggregates').insert({
        resource_provider_id: t.compute,
        aggregate_id: 777,
      });
      await k('consumers').insert({
        uuid: randomUUID(),
        project_id: 555,
        user_id: 1,
        generation: 0,
      });
    });
    afterAll(() => t?.destroy());

    it('lists each kind with the missing ids and the SQL to clean up', async () => {
      const r = await check(t);
      expect(outcome(r.report, 'Orphaned Records')).toEqual({
        check: 'Orphaned Records',
        result: 2,
        details:
          "Found 2 allocations pointing at a resource provider that does not exist (id 9001); 1 inventory pointing at a resource class that does not exist (id 10042); 1 aggregate link pointing at an aggregate that does not exist (id 777); 1 consumer pointing at a project that does not exist (id 555). Restore the missing rows from the source database, or remove or re-point the orphans, e.g.: DELETE FROM allocations WHERE resource_provider_id IN (9001); DELETE FROM inventories WHERE resource_class_id IN (10042); DELETE FROM resource_provider_aggregates WHERE aggregate_id IN (777); UPDATE consumers SET project_id = (SELECT id FROM projects WHERE external_id = '<the project>') WHERE project_id IN (555);",
      });
      expect(r.code).toBe(2);
    });

    it.skipIf(!realPlacement)(
      'the table wraps the long details exactly as oslo.upgradecheck',
      async () => {
        const json = await check(t);
        const table = await runCli([
          'upgrade',
          'check',
          '--placement-url',
          t.url,
          '--checks',
          'all',
        ]);
        const oslo = await osloUpgradeCheckOutput(json.report.checks);
        expect(table.stdout).toBe(oslo.stdout);
        expect(table.code).toBe(oslo.code);
      },
    );
  });

  describe('Capacity Exceeded', () => {
    it('used above (total − reserved) × allocation_ratio is a warning; exactly at capacity is not', async () => {
      const t = await healthy(engine, 'uc_capacity');
      try {
        // Exactly at capacity, with the two healthy consumers' 4 VCPU and 2048 MB each:
        // MEMORY_MB (32768 − 512) × 1.5 = 48384; VCPU 16 × 4 = 64.
        const uuid = randomUUID();
        await t.knex('consumers').insert({ uuid, project_id: 1, user_id: 1, generation: 0 });
        await t.knex('allocations').insert([
          {
            resource_provider_id: t.compute,
            consumer_id: uuid,
            resource_class_id: 1,
            used: 48384 - 4096,
          },
          { resource_provider_id: t.compute, consumer_id: uuid, resource_class_id: 0, used: 56 },
          { resource_provider_id: t.gpu, consumer_id: uuid, resource_class_id: 2, used: 10 },
        ]);
        const atCapacity = await check(t);
        expectOnly(
          atCapacity,
          'Capacity Exceeded',
          1,
          'Usage exceeds capacity for 1 resource class on 1 resource provider, so placement refuses new allocations of them there: compute-01_gpu (' +
            (await t.knex('resource_providers').where({ id: t.gpu }).first('uuid')).uuid +
            '): DISK_GB used 10 with no inventory. Raise the allocation ratio or total, lower reserved (openstack resource provider inventory set, or the [DEFAULT] *_allocation_ratio options of nova-compute), or move or delete the stale allocations.',
        );
        await t.knex('allocations').where({ resource_class_id: 0, used: 56 }).update({ used: 58 });
        await t
          .knex('inventories')
          .where({ resource_class_id: 1 })
          .update({ allocation_ratio: 1.2 });
        const over = await check(t);
        expect(outcome(over.report, 'Capacity Exceeded')?.details).toMatch(
          /^Usage exceeds capacity for 3 resource classes on 2 resource providers, so placement refuses new allocations of them there: compute-01 \(11111111-1111-4111-8111-111111111111\): VCPU used 66 of capacity 64 \(total 16, reserved 0, allocation_ratio 4\); compute-01 \(11111111-1111-4111-8111-111111111111\): MEMORY_MB used 48384 of capacity 38707\.\d\d \(total 32768, reserved 512, allocation_ratio 1\.20\); compute-01_gpu /,
        );
        expect(over.code).toBe(1);
      } finally {
        await t.destroy();
      }
    });
  });

  describe('Inventory Constraints', () => {
    it('values placement rejects today are a failure', async () => {
      const t = await healthy(engine, 'uc_constraints');
      try {
        await t.knex('inventories').where({ resource_class_id: 0 }).update({ step_size: 0 });
        // On a class without allocations, so that Capacity Exceeded stays quiet.
        await t.knex('inventories').insert({
          resource_provider_id: t.compute,
          resource_class_id: 2,
          total: 100,
          reserved: 200,
          min_unit: 0,
          max_unit: 100,
          step_size: 1,
          allocation_ratio: 1,
        });
        expectOnly(
          await check(t),
          'Inventory Constraints',
          2,
          `2 inventories have values that placement rejects (total, min_unit, max_unit and step_size at least 1, reserved from 0 to total, everything within placement's limits): compute-01 (11111111-1111-4111-8111-111111111111) VCPU: step_size 0; compute-01 (11111111-1111-4111-8111-111111111111) DISK_GB: min_unit 0, reserved 200 above total 100. Correct them, e.g. UPDATE inventories SET step_size = 1 WHERE step_size < 1; or let nova-compute report its inventory again after fixing its configuration.`,
        );
      } finally {
        await t.destroy();
      }
    });
  });

  describe('Standard Traits and Resource Classes', () => {
    it('missing standard names are a warning (a service start adds them)', async () => {
      const t = await healthy(engine, 'uc_std_missing');
      try {
        await t.knex('resource_classes').whereIn('name', ['PCPU', 'VGPU']).delete();
        await t.knex('resource_provider_traits').delete();
        await t.knex('traits').whereIn('name', ['COMPUTE_NODE', 'HW_CPU_X86_AVX2']).delete();
        expectOnly(
          await check(t),
          'Standard Traits and Resource Classes',
          1,
          'The database lacks 2 of the 21 standard resource classes of os-resource-classes 1.1.0 (VGPU; PCPU) and 2 of the 345 standard traits of os-traits 2.9.0 (COMPUTE_NODE; HW_CPU_X86_AVX2). The placement service adds them when it starts, so this is expected on a database no placement service has used yet; if one has, check that it is configured with this database.',
        );
      } finally {
        await t.destroy();
      }
    });

    it('a custom class below 10000 or a standard name with a custom id is a failure', async () => {
      const t = await healthy(engine, 'uc_std_wrong');
      try {
        await t.knex('resource_classes').where({ name: 'VGPU' }).delete();
        await t.knex('resource_classes').where({ name: 'PCI_DEVICE' }).update({ id: 10001 });
        await insertWithExplicitIds(t.knex, 'resource_classes', [
          { id: 10, name: 'CUSTOM_LEGACY' },
        ]);
        const r = await check(t);
        expectOnly(
          r,
          'Standard Traits and Resource Classes',
          2,
          "Resource classes at the wrong ids: custom class CUSTOM_LEGACY has id 10, in the range reserved for standard classes (VGPU's id); standard class PCI_DEVICE has id 10001 instead of 3. Standard classes must have their fixed ids (VCPU = 0 …) and custom classes ids from 10000, or placement cannot add its standard classes and allocations of these classes are misread. Give each class its right id, updating inventories.resource_class_id and allocations.resource_class_id to match, e.g. by copying again from nova_api.",
        );
      } finally {
        await t.destroy();
      }
    });
  });

  describe('Nova-era Leftovers', () => {
    it("can_host, migrate_version and indexes that 2023.2's revision drops", async () => {
      const t = await healthy(engine, 'uc_leftovers');
      try {
        const q = t.db.dialect.quote;
        await t.knex.raw(
          `ALTER TABLE ${q('resource_providers')} ADD COLUMN ${q('can_host')} INTEGER`,
        );
        await t.knex.schema.createTable('migrate_version', (tb) => {
          tb.string('repository_id', 250).primary();
          tb.text('repository_path');
          tb.integer('version');
        });
        await t.knex.raw(
          `CREATE INDEX ${q('resource_providers_uuid_idx')} ON ${q('resource_providers')} (${q('uuid')})`,
        );
        const drop = t.db.dialect.dropIndexSql('resource_providers', 'resource_providers_uuid_idx');
        expectOnly(
          await check(t),
          'Nova-era Leftovers',
          1,
          `Left over from nova_api: resource_providers.can_host (nova's, unused since Newton); the migrate_version table (nova_api's sqlalchemy-migrate version); indexes that revision a082b8bb98d0 drops, on a database stamped a082b8bb98d0 (resource_providers_uuid_idx). Remove them: ALTER TABLE ${q('resource_providers')} DROP COLUMN ${q('can_host')}; DROP TABLE ${q('migrate_version')}; ${drop};`,
        );
      } finally {
        await t.destroy();
      }
    });

    it.runIf(engine === 'mysql')('latin1 tables, as nova created them', async () => {
      const t = await healthy(engine, 'uc_latin1', 'a082b8bb98d0', { charset: 'latin1' });
      try {
        const r = await check(t);
        const details = outcome(r.report, 'Nova-era Leftovers')?.details ?? '';
        expect(outcome(r.report, 'Nova-era Leftovers')?.result).toBe(1);
        expect(details).toMatch(
          /^Left over from nova_api: latin1 tables or columns \(allocations, consumer_types, consumers, inventories, placement_aggregates, projects, resource_classes, resource_provider_aggregates, resource_provider_traits, resource_providers, traits, users\)\. Remove them: ALTER TABLE `allocations` CONVERT TO CHARACTER SET utf8mb4;/,
        );
        expect(r.code).toBe(1);
      } finally {
        await t.destroy();
      }
    });
  });

  describe('a check that throws', () => {
    it('is its own failure with its message; the others still run', async () => {
      const t = await healthy(engine, 'uc_throws');
      try {
        await t.knex.schema.dropTable('resource_provider_traits');
        await t.knex.schema.dropTable('traits');
        const r = await check(t);
        const std = outcome(r.report, 'Standard Traits and Resource Classes');
        expect(std?.result).toBe(2);
        expect(std?.details).toMatch(/^The check could not run: .*traits/);
        expect(std?.details).not.toMatch(/select/i);
        expect(outcome(r.report, 'Orphaned Records')?.result).toBe(2);
        expect(outcome(r.report, 'Nova-era Leftovers')).toMatchObject({ result: 0 });
        expect(outcome(r.report, 'Capacity Exceeded')).toMatchObject({ result: 0 });
        expect(r.code).toBe(2);
      } finally {
        await t.destroy();
      }
    });
  });

  describe('cannot run at all', () => {
    it('an unreachable server or a missing config file exits 255', async () => {
      const down = await runCli([
        'upgrade',
        'check',
        '--placement-url',
        'postgresql://postgres@127.0.0.1:1/none',
        '--connect-timeout',
        '2',
        '--json',
      ]);
      expect(down.code).toBe(255);
      expect(JSON.parse(down.stdout)).toMatchObject({
        error: { code: 'connect_unreachable', exitCode: 255 },
      });
      const noConf = await runCli([
        'upgrade',
        'check',
        '--placement-config',
        '/nonexistent/placement.conf',
      ]);
      expect(noConf.code).toBe(255);
      expect(noConf.stderr).toMatch(/Cannot read the configuration file/);
    });
  });

  describe('Policy File JSON to YAML Migration, where placement would look', () => {
    let t: PlacementTestDatabase;
    beforeAll(async () => {
      t = await healthy(engine, 'uc_policy');
    });
    afterAll(() => t?.destroy());

    async function policyResult(files: Record<string, string>, option?: string) {
      const dir = mkdtempSync(join(tmpdir(), 'pu-policy-'));
      const conf = writePlacementConf(
        t.url,
        option ? { oslo_policy: { policy_file: option } } : {},
        dir,
      );
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const r = await runCli(['upgrade', 'check', '--placement-config', conf, '--json'], {
        env: { HOME: mkdtempSync(join(tmpdir(), 'pu-home-')) },
      });
      return { dir, outcome: outcome(JSON.parse(r.stdout) as Report, OWN[2]!)! };
    }

    it('a policy.json with no policy.yaml beside it is a failure, with the command to convert it', async () => {
      const { dir, outcome: o } = await policyResult({ 'policy.json': '{"a": "role:admin"}' });
      expect(o.result).toBe(2);
      expect(o.details).toBe(
        `${dir}/policy.json is a JSON-formatted policy file and there is no policy.yaml beside the configuration. Convert it with "oslopolicy-convert-json-to-yaml --namespace placement --policy-file ${dir}/policy.json --output-file policy.yaml", then set [oslo_policy] policy_file = policy.yaml in placement.conf and remove the JSON file: oslo.policy has deprecated JSON-formatted policy files.`,
      );
    });

    it('a policy.yaml beside it wins: placement reads the YAML one (placement-status 8.0.0 still fails here)', async () => {
      const { outcome: o } = await policyResult({
        'policy.json': '{"a": "role:admin"}',
        'policy.yaml': '"a": "role:admin"\n',
      });
      expect(o).toEqual({ check: OWN[2], result: 0, details: null });
    });

    it('a policy.yaml that holds JSON, or a configured file that is JSON, is a failure', async () => {
      expect((await policyResult({ 'policy.yaml': '{}' })).outcome.result).toBe(2);
      const abs = join(mkdtempSync(join(tmpdir(), 'pu-abs-')), 'placement-policy.json');
      writeFileSync(abs, '{"a": "rule:admin_api"}');
      const { outcome: o } = await policyResult({}, abs);
      expect(o.result).toBe(2);
      expect(o.details).toMatch(/^The configured policy file \(\[oslo_policy\] policy_file\) /);
    });
  });

  describe.skipIf(!realPlacement)(
    "placement's own checks agree with placement-status 8.0.0",
    () => {
      let t: Awaited<ReturnType<typeof healthy>>;
      let conf: string;
      beforeAll(async () => {
        t = await healthy(engine, 'uc_parity', '422ece571366');
      });
      afterAll(() => t?.destroy());

      /** Result codes of the three checks from placement-status's table (its --json does not work). */
      function statusCodes(out: string): Record<string, number> {
        const codes: Record<string, number> = {};
        for (const m of out.matchAll(/\| Check: (.+?)\s+\|\n\| Result: (\w+)/g)) {
          codes[m[1]!] = { Success: 0, Warning: 1, Failure: 2 }[m[2]!] ?? -1;
        }
        return codes;
      }

      async function compare(
        label: string,
        policy?: { files: Record<string, string>; option?: string },
      ) {
        const dir = mkdtempSync(join(tmpdir(), 'pu-parity-'));
        conf = writePlacementConf(
          t.url,
          policy?.option ? { oslo_policy: { policy_file: policy.option } } : {},
          dir,
        );
        for (const [name, text] of Object.entries(policy?.files ?? {})) {
          writeFileSync(join(dirname(conf), name), text);
        }
        const home = mkdtempSync(join(tmpdir(), 'pu-home-'));
        const real = await placementStatus(conf, ['upgrade', 'check'], home);
        const mine = await runCli(['upgrade', 'check', '--placement-config', conf, '--json'], {
          env: { HOME: home },
        });
        const report = JSON.parse(mine.stdout) as Report;
        const theirs = statusCodes(real.stdout);
        expect(Object.keys(theirs), `${label}: ${real.stdout}${real.stderr}`).toEqual(OWN);
        for (const title of OWN) {
          expect(outcome(report, title)?.result, `${label}: ${title}`).toBe(theirs[title]);
        }
        return theirs;
      }

      it('on a healthy database', async () => {
        expect(await compare('healthy')).toEqual({ [OWN[0]!]: 0, [OWN[1]!]: 0, [OWN[2]!]: 0 });
      });

      // Policy files do not depend on the engine: compared once, on the first one.
      it.runIf(engine === testEngines()[0])('with JSON or YAML policy files', async () => {
        expect(
          (
            await compare('policy.json beside the config', {
              files: { 'policy.json': '{"a": "role:admin"}' },
            })
          )[OWN[2]!],
        ).toBe(2);
        expect(
          (
            await compare('configured JSON file', {
              files: { 'custom-policy.json': '{}' },
              option: 'custom-policy.json',
            })
          )[OWN[2]!],
        ).toBe(2);
        expect(
          (
            await compare('configured YAML file', {
              files: { 'my.yaml': '"placement:resource_providers:list": "role:reader"\n' },
              option: 'my.yaml',
            })
          )[OWN[2]!],
        ).toBe(0);
        expect(
          (await compare('policy.json that is not JSON', { files: { 'policy.json': 'a: b\n' } }))[
            OWN[2]!
          ],
        ).toBe(0);
      });

      it('with missing roots and incomplete consumers', async () => {
        await t.knex('resource_providers').where({ id: t.gpu }).update({ root_provider_id: null });
        expect(await compare('missing root')).toEqual({ [OWN[0]!]: 2, [OWN[1]!]: 0, [OWN[2]!]: 0 });
        await t.knex('consumers').delete();
        expect(await compare('missing root and consumers')).toEqual({
          [OWN[0]!]: 2,
          [OWN[1]!]: 1,
          [OWN[2]!]: 0,
        });
        await t.knex('resource_providers').update({ root_provider_id: t.knex.ref('id') });
        expect(await compare('consumers only')).toEqual({
          [OWN[0]!]: 0,
          [OWN[1]!]: 1,
          [OWN[2]!]: 0,
        });
      });
    },
  );
});
