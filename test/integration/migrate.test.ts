/**
 * migrate, end to end through the built CLI: nova_api sources of every
 * release shape on every engine, into every engine, with the flaws old
 * clouds carry, checked row by row by code independent of src/copy.
 */
import { describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { generateNovaApi, type GenerateNovaApiOptions } from '../../src/fixtures/index.js';
import type { Engine } from '../../src/db/url.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { freshDatabases, testEngines, type TestDatabase } from '../helpers/databases.js';
import { expectIdentical } from '../helpers/row-compare.js';

interface MigrateJson {
  outcome: string;
  exitCode: number;
  message: string;
  hint: string | null;
  source: { release: string; otherTables: string[] };
  target: { state: string };
  conditions: { id: string; severity: string; count: number; hint?: string }[];
  copied: { table: string; rows: number }[];
  verification: {
    table: string;
    equal: boolean;
    sourceRows: number;
    targetRows: number;
    sourceChecksum: string;
    targetChecksum: string;
  }[];
  finish: { schema: { to: string } | null; pendingCommands: string[] } | null;
}

const engines = testEngines();
const fresh = freshDatabases();

async function novaApi(engine: Engine, options: GenerateNovaApiOptions): Promise<TestDatabase> {
  const d = await fresh(engine, `nova_${options.release}`);
  const db = await d.open();
  try {
    await generateNovaApi(db, options);
  } finally {
    await db.close();
  }
  return d;
}

async function migrateJson(source: TestDatabase, target: TestDatabase, extra: string[] = []) {
  const r = await runCli([
    'migrate',
    '--source',
    source.url,
    '--target',
    target.url,
    '--json',
    ...extra,
  ]);
  return { r, json: parseJson<MigrateJson>(r) };
}

const RELEASES = ['newton', 'pike', 'queens', 'rocky', 'train'] as const;

describeEach(engines)('from a %s nova_api', (engine) => {
  it.each(RELEASES)(
    'shaped like %s: plans, copies every row, verifies, and a rerun is "already migrated"',
    async (release) => {
      // Case variants collide on MySQL's case-insensitive collation: tested on their own below.
      const source = await novaApi(engine, {
        release,
        providers: 8,
        consumers: 120,
        seed: 7,
        flaws: { caseVariantNames: false },
      });
      const target = await fresh(engine, `target_${release}`);

      const plan = await migrateJson(source, target);
      expect(plan.r.code, plan.r.stderr).toBe(0);
      expect(plan.json.outcome).toBe('planned');
      expect(plan.json.target.state).toBe('empty');
      expect(plan.json.source.otherTables.length).toBeGreaterThan(0);
      const ids = plan.json.conditions.map((c) => c.id);
      if (release === 'newton' || release === 'pike' || release === 'queens') {
        // Rocky's own online migration already gave old allocations their consumers.
        expect(ids).toContain('allocations_without_consumer');
        expect(ids).toContain('null_root_provider_id');
      }
      expect(ids.some((id) => id.startsWith('dropped_columns_resource_providers'))).toBe(true); // can_host
      expect(await runCli(['db', 'version', '--placement-url', target.url])).toMatchObject({
        stdout: 'None\n',
      });

      const apply = await migrateJson(source, target, ['--apply', '--revision', 'stein']);
      expect(apply.r.code, apply.r.stderr).toBe(0);
      expect(apply.json.outcome).toBe('migrated');
      expect(
        apply.json.verification.every((v) => v.equal && v.sourceChecksum === v.targetChecksum),
      ).toBe(true);
      await expectIdentical(source, target);

      const again = await migrateJson(source, target, ['--apply', '--revision', 'stein']);
      expect(again.r.code, again.r.stderr).toBe(ExitCode.ALREADY_MIGRATED);
      expect(again.json.outcome).toBe('already-migrated');
    },
  );
});

describe('every source/target engine pair (a queens cloud with its flaws)', () => {
  const pairs = engines.flatMap((s) => engines.map((t) => [s, t] as const));
  it.each(pairs)('%s → %s', async (from, to) => {
    const source = await novaApi(from, {
      release: 'queens',
      providers: 8,
      consumers: 150,
      seed: 11,
      flaws: { caseVariantNames: false },
    });
    const target = await fresh(to, 'pair');
    const { r, json } = await migrateJson(source, target, ['--apply', '--revision', 'stein']);
    expect(r.code, r.stderr).toBe(0);
    expect(json.outcome).toBe('migrated');
    await expectIdentical(source, target);
    // Sequences and AUTO_INCREMENT are past the copied ids: a new row gets a fresh id.
    const t = await target.open();
    try {
      const max = Number((await t.knex('resource_providers').max({ m: 'id' }).first())?.['m']);
      await t.knex('resource_providers').insert({
        uuid: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
        name: 'after-migrate',
        generation: 0,
      });
      const added = await t.knex('resource_providers').where({ name: 'after-migrate' }).first('id');
      expect(Number(added?.['id'])).toBeGreaterThan(max);
    } finally {
      await t.close();
    }
  });
});

describe.runIf(engines.includes('postgresql') && engines.includes('mysql'))(
  'the finish on a PostgreSQL target',
  () => {
    it("analyses the loaded tables and fixes old rows in batches larger than placement-manage's 50", async () => {
      // Autovacuum may be off or not yet round: without statistics the online
      // data migrations' look-ups scanned allocations whole, batch after batch.
      const source = await novaApi('mysql', {
        release: 'queens',
        providers: 8,
        consumers: 400,
        seed: 5,
        flaws: { caseVariantNames: false },
      });
      const target = await fresh('postgresql', 'analysed');
      const { r, json } = await migrateJson(source, target, ['--apply']);
      expect(r.code, r.stderr).toBe(0);
      const run = (
        json as unknown as {
          finish: { onlineMigrations: { batches: number; migrations: { done: number }[] } };
        }
      ).finish.onlineMigrations;
      const fixed = run.migrations.reduce((a, m) => a + m.done, 0);
      // Batches of 50 would need more than fixed / 50 of them; one batch fixes
      // them all, and one more finds nothing left.
      expect(fixed).toBeGreaterThan(100);
      expect(run.batches).toBe(2);
      const t = await target.open();
      try {
        const analysed = (await t.knex.raw(
          "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL AND relname IN ('allocations', 'consumers', 'resource_providers') ORDER BY relname",
        )) as { rows: { relname: string }[] };
        expect(analysed.rows.map((x) => x.relname)).toEqual([
          'allocations',
          'consumers',
          'resource_providers',
        ]);
      } finally {
        await t.close();
      }
    });
  },
);

describe.runIf(engines.includes('postgresql') && engines.includes('mysql'))(
  'rows loaded into PostgreSQL as COPY text',
  () => {
    it('are verified by the hash of the text the target prints back, control characters and backslashes too', async () => {
      const source = await novaApi('mysql', {
        release: 'train',
        providers: 6,
        consumers: 80,
        seed: 9,
        flaws: { caseVariantNames: false },
      });
      const awkward = 'A\\b\bf\fv\vt\tn\nr\r\\N é\u0001';
      const db = await source.open();
      try {
        await db
          .knex('traits')
          .insert({ name: `CUSTOM_${awkward}`, created_at: '2019-01-02 03:04:05' });
        await db.knex('projects').insert({ external_id: awkward });
      } finally {
        await db.close();
      }
      const target = await fresh('postgresql', 'copy_text');
      const { r, json } = await migrateJson(source, target, ['--apply', '--revision', 'stein']);
      expect(r.code, r.stderr).toBe(0);
      await expectIdentical(source, target);
      // A text that came back different would have fallen back to a row-by-row
      // comparison, whose checksum is of another kind.
      for (const table of ['traits', 'projects', 'allocations']) {
        const v = json.verification.find((x) => x.table === table)!;
        expect(v.sourceChecksum, table).toMatch(/^copy-sha1:/);
        expect(v.targetChecksum, table).toBe(v.sourceChecksum);
      }
    });
  },
);

describe.runIf(engines.includes('mysql'))('what the target would refuse', () => {
  it('provider names that differ only in case block a copy into a case-insensitive MySQL database (23), writing nothing', async () => {
    const source = await novaApi('sqlite', {
      release: 'rocky',
      providers: 8,
      consumers: 40,
      seed: 3,
      flaws: { caseVariantNames: true, nonAsciiNames: false },
    });
    const target = await fresh('mysql', 'collide');
    const { r, json } = await migrateJson(source, target, ['--apply']);
    expect(r.code).toBe(ExitCode.COPY_BLOCKED);
    expect(json.outcome).toBe('blocked');
    expect(
      json.conditions.find((c) => c.id === 'name_collisions_resource_providers')?.severity,
    ).toBe('blocking');
    // nova-manage cannot rename a provider: the hint names what can.
    const hint = json.conditions.find((c) => c.id === 'name_collisions_resource_providers')?.hint;
    expect(hint).toContain('openstack resource provider set --name');
    expect(hint).not.toContain('nova-manage');
    const t = await target.open();
    expect(await t.dialect.listTables(t.knex)).toEqual([]);
    await t.close();
  });
});

describeEach(engines)('outcomes a playbook relies on (%s)', (engine) => {
  it('a source without placement tables, or a server without the database, exits 20; a missing SQLite file 10', async () => {
    const empty = await fresh(engine, 'noplacement');
    const db = await empty.open();
    await db.knex.schema.createTable('cell_mappings', (t) => {
      t.integer('id').primary();
    });
    await db.close();
    const target = await fresh(engine, 'unused');
    const r1 = await migrateJson(empty, target);
    expect(r1.r.code).toBe(ExitCode.SOURCE_HAS_NO_PLACEMENT);
    const missing =
      engine === 'sqlite'
        ? `sqlite:///${empty.url.slice(10)}-missing`
        : empty.url.replace(/\/([^/?]+)(\?|$)/, '/$1_missing$2');
    const r2 = await runCli(['migrate', '--source', missing, '--target', target.url]);
    if (engine === 'sqlite') {
      // A file that is not there is a path to check, not a cloud without nova.
      expect(r2.code, r2.stderr).toBe(ExitCode.DATABASE_MISSING);
      expect(r2.stderr).toContain(`${missing.slice(10)} does not exist`);
    } else {
      expect(r2.code, r2.stderr).toBe(ExitCode.SOURCE_HAS_NO_PLACEMENT);
    }
  });

  it('a source without resource providers exits 4, writing nothing', async () => {
    const source = await novaApi(engine, { release: 'train', providers: 0, consumers: 0, seed: 1 });
    const target = await fresh(engine, 'nothing');
    const { r, json } = await migrateJson(source, target, ['--apply']);
    expect(r.code, r.stderr).toBe(ExitCode.NOTHING_TO_MIGRATE);
    expect(json.outcome).toBe('nothing-to-migrate');
  });

  it('a target holding other data exits 21 and is left untouched', async () => {
    const source = await novaApi(engine, {
      release: 'train',
      providers: 4,
      consumers: 20,
      seed: 5,
      flaws: { caseVariantNames: false },
    });
    const target = await fresh(engine, 'otherdata');
    expect((await runCli(['db', 'sync', '--placement-url', target.url])).code).toBe(0);
    const t = await target.open();
    await t.knex('resource_providers').insert({
      id: 1,
      uuid: 'aaaaaaaa-0000-0000-0000-000000000001',
      name: 'someone-elses',
      generation: 5,
      root_provider_id: 1,
    });
    await t.close();
    const { r, json } = await migrateJson(source, target, ['--apply']);
    expect(r.code).toBe(ExitCode.TARGET_HAS_OTHER_DATA);
    expect(json.outcome).toBe('target-has-other-data');
    const check = await target.open();
    expect(await check.knex('resource_providers').count({ n: '*' }).first()).toMatchObject({
      n: expect.anything(),
    });
    expect(Number((await check.knex('resource_providers').count({ n: '*' }).first())?.['n'])).toBe(
      1,
    );
    await check.close();
  });

  it('--source and --target swapped: the nova_api target is refused (21) and left untouched', async () => {
    const novaApiDb = await novaApi(engine, {
      release: 'rocky',
      providers: 4,
      consumers: 20,
      seed: 6,
      flaws: { caseVariantNames: false },
    });
    const placement = await fresh(engine, 'swapped');
    expect((await migrateJson(novaApiDb, placement, ['--apply'])).r.code).toBe(0);
    const counts = async () => {
      const db = await novaApiDb.open();
      try {
        const n: Record<string, number> = {};
        for (const t of ['resource_providers', 'allocations', 'consumers', 'traits']) {
          n[t] = Number((await db.knex(t).count({ n: '*' }).first())?.['n']);
        }
        return n;
      } finally {
        await db.close();
      }
    };
    const before = await counts();
    const { r, json } = await migrateJson(placement, novaApiDb, ['--apply']);
    expect(r.code).toBe(ExitCode.TARGET_HAS_OTHER_DATA);
    expect(json.outcome).toBe('target-has-other-data');
    expect(json.message).toMatch(/looks like a nova_api database \(it has cell_mappings/);
    expect(json.hint).toMatch(/Check --source and --target/);
    expect(await counts()).toEqual(before);
  });

  it('a placement database as the source (made by db sync, or by a finished migrate) exits 20, writing nothing', async () => {
    const novaApiDb = await novaApi(engine, {
      release: 'rocky',
      providers: 4,
      consumers: 20,
      seed: 8,
      flaws: { caseVariantNames: false },
    });
    const migrated = await fresh(engine, 'placement_src');
    expect((await migrateJson(novaApiDb, migrated, ['--apply'])).r.code).toBe(0);
    const synced = await fresh(engine, 'synced_src');
    expect((await runCli(['db', 'sync', '--placement-url', synced.url])).code).toBe(0);
    const target = await fresh(engine, 'placement_dst');
    for (const source of [migrated, synced]) {
      for (const extra of [[], ['--apply']]) {
        const { r, json } = await migrateJson(source, target, extra);
        expect({ extra, code: r.code }).toEqual({ extra, code: ExitCode.SOURCE_HAS_NO_PLACEMENT });
        expect(json.outcome).toBe('no-placement-source');
        expect(json.source.release).toBe('placement');
        expect(json.message).toMatch(
          /is a placement database, not a nova_api \(placement's revision [0-9a-f]{12} in alembic_version, none of nova's tables such as cell_mappings\)/,
        );
        expect(json.message).not.toMatch(/yoga/);
        expect(json.hint).toMatch(/Check --source and --target .*were they swapped\?/);
      }
    }
    const text = await runCli(['migrate', '--source', migrated.url, '--target', target.url]);
    expect(text.code).toBe(ExitCode.SOURCE_HAS_NO_PLACEMENT);
    expect(text.stdout).toMatch(/is a placement database, not a nova_api/);
    const t = await target.open();
    try {
      expect(await t.dialect.listTables(t.knex)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('copies into a schema that placement already started on (its standard traits and classes only)', async () => {
    const source = await novaApi(engine, {
      release: 'rocky',
      providers: 4,
      consumers: 30,
      seed: 9,
      flaws: { caseVariantNames: false },
    });
    const target = await fresh(engine, 'startup');
    expect(
      (await runCli(['db', 'sync', '--placement-url', target.url, '--revision', 'stein'])).code,
    ).toBe(0);
    const t = await target.open();
    // As placement does on MySQL, so that VCPU keeps id 0.
    if (engine === 'mysql')
      await t.knex.raw("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')");
    await t.knex('traits').insert([{ name: 'COMPUTE_NODE' }, { name: 'HW_CPU_X86_AVX2' }]);
    await t.knex('resource_classes').insert([
      { id: 0, name: 'VCPU' },
      { id: 1, name: 'MEMORY_MB' },
    ]);
    await t.close();
    const { r, json } = await migrateJson(source, target, ['--apply', '--revision', 'stein']);
    expect(r.code, r.stderr).toBe(0);
    expect(json.target.state).toBe('startup-rows-only');
    await expectIdentical(source, target);
  });
});
