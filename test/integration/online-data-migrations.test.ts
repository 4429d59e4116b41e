/**
 * `db online-data-migrations` on every engine: placement-manage's output and
 * exit codes, the rows it leaves, two runs at once, and the real
 * placement-manage (8.0.0) as the reference for output and for `db sync`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { testEngines } from '../helpers/databases.js';
import {
  addProvider,
  count,
  insertId,
  insertMany,
  placementDatabase,
  type PlacementTestDatabase,
} from '../helpers/placement-data.js';
import {
  hasRealPlacement,
  placementManage,
  placementManageOn,
  writePlacementConf,
} from '../helpers/real-placement.js';

const INCOMPLETE = '00000000-0000-0000-0000-000000000000';
const TABLE_HEADER = [
  '+-----------------------------+-------------+-----------+',
  '|          Migration          | Total Found | Completed |',
  '+-----------------------------+-------------+-----------+',
];
const realPlacement = hasRealPlacement();

/**
 * The shape of an extracted pre-Train database: `roots` providers without a
 * root, `consumers` instances with three allocations each and no consumers
 * row, plus `complete` instances that already have one.
 */
async function seed(
  t: PlacementTestDatabase,
  { roots, consumers, complete = 0 }: { roots: number; consumers: number; complete?: number },
): Promise<string[]> {
  const providers: number[] = [];
  for (let i = 0; i < Math.max(roots, 1); i++) {
    providers.push(await addProvider(t.knex, { root: i < roots ? null : undefined }));
  }
  const rp = providers[0]!;
  const missing = Array.from({ length: consumers }, () => randomUUID());
  const present = Array.from({ length: complete }, () => randomUUID());
  if (complete > 0) {
    const project = await insertId(t.knex, 'projects', { external_id: 'real-project' });
    const user = await insertId(t.knex, 'users', { external_id: 'real-user' });
    await insertMany(
      t.knex,
      'consumers',
      present.map((uuid) => ({ uuid, project_id: project, user_id: user, generation: 3 })),
    );
  }
  await insertMany(
    t.knex,
    'allocations',
    [...missing, ...present].flatMap((consumer_id) =>
      [0, 1, 2].map((rc) => ({
        resource_provider_id: rp,
        consumer_id,
        resource_class_id: rc,
        used: 1 + rc,
      })),
    ),
  );
  return missing;
}

/** prettytable's centring. */
function centre(s: string, w: number): string {
  const excess = w - s.length;
  const half = Math.floor(excess / 2);
  if (excess % 2 === 0) return ' '.repeat(half) + s + ' '.repeat(half);
  return s.length % 2 === 1
    ? ' '.repeat(half) + s + ' '.repeat(half + 1)
    : ' '.repeat(half + 1) + s + ' '.repeat(half);
}

/** The stdout placement-manage prints for these batch lines and totals. */
function expectedOutput(
  lines: string[],
  totals: [string, number, number][],
  unlimited = true,
): string {
  return [
    ...(unlimited ? ['Running batches of 50 until complete'] : []),
    ...lines,
    ...TABLE_HEADER,
    ...totals.map(
      ([name, found, done]) =>
        `| ${centre(name, 27)} | ${centre(String(found), 11)} | ${centre(String(done), 9)} |`,
    ),
    TABLE_HEADER[0],
    '',
  ].join('\n');
}

describeEach(testEngines())('db online-data-migrations on %s', (engine) => {
  describe('a pre-Train database, batches of 50 until complete', () => {
    let t: PlacementTestDatabase;
    let missing: string[];
    let existingProject: number;
    beforeAll(async () => {
      t = await placementDatabase(engine, 'odm_full');
      // A Rocky/Stein database may already hold the incomplete project row: it is reused.
      existingProject = await insertId(t.knex, 'projects', { external_id: INCOMPLETE });
      missing = await seed(t, { roots: 3, consumers: 120, complete: 5 });
    });
    afterAll(() => t?.destroy());

    it('prints what placement-manage prints and exits 0', async () => {
      const r = await runCli(['db', 'online-data-migrations', '--placement-url', t.url]);
      expect(r.stderr).not.toMatch(/Error/);
      expect(r.stdout).toBe(
        expectedOutput(
          [
            '3 rows matched query set_root_provider_ids, 3 migrated',
            '47 rows matched query create_incomplete_consumers, 47 migrated',
            '50 rows matched query create_incomplete_consumers, 50 migrated',
            '23 rows matched query create_incomplete_consumers, 23 migrated',
          ],
          [
            ['set_root_provider_ids', 3, 3],
            ['create_incomplete_consumers', 120, 120],
          ],
        ),
      );
      expect(r.code).toBe(0);
    });

    it('leaves one consumer per instance, owned by the reused incomplete project and user', async () => {
      expect(await count(t.knex('resource_providers').whereNull('root_provider_id'))).toBe(0);
      const roots = await t.knex('resource_providers').select('id', 'root_provider_id');
      for (const r of roots) expect(Number(r.root_provider_id)).toBe(Number(r.id));
      expect(await count(t.knex('projects').where({ external_id: INCOMPLETE }))).toBe(1);
      expect(await count(t.knex('users').where({ external_id: INCOMPLETE }))).toBe(1);
      const user = await t.knex('users').where({ external_id: INCOMPLETE }).first('id');
      const made = await t
        .knex('consumers')
        .whereIn('uuid', missing)
        .select('uuid', 'project_id', 'user_id', 'generation', 'created_at');
      expect(made.map((c) => c.uuid).sort()).toEqual([...missing].sort());
      for (const c of made) {
        expect(Number(c.project_id)).toBe(existingProject);
        expect(Number(c.user_id)).toBe(Number(user.id));
        expect(Number(c.generation)).toBe(0);
        expect(c.created_at).not.toBeNull();
      }
      // The five complete consumers are untouched.
      expect(await count(t.knex('consumers').where({ generation: 3 }))).toBe(5);
      expect(await count(t.knex('consumers'))).toBe(125);
    });

    it('run again, finds nothing and exits 0; --json says the same', async () => {
      const r = await runCli(['db', 'online-data-migrations', '--placement-url', t.url, '--json']);
      expect(r.code).toBe(0);
      expect(parseJson(r)).toEqual({
        limited: false,
        batchSize: 50,
        batches: 1,
        migrations: [
          { name: 'set_root_provider_ids', found: 0, done: 0 },
          { name: 'create_incomplete_consumers', found: 0, done: 0 },
        ],
        errors: [],
        unfixable: [],
        failed: false,
        exitCode: 0,
      });
    });

    it.skipIf(!realPlacement)(
      'the real placement-manage db sync now upgrades past the Train blockers',
      async () => {
        const conf = writePlacementConf(t.url);
        const sync = await placementManage(conf, ['db', 'sync']);
        expect(sync.stderr).not.toMatch(/Traceback/);
        expect(sync.code).toBe(0);
        const version = await placementManage(conf, ['db', 'version']);
        expect(version.stdout.trim()).toBe('422ece571366');
      },
    );
  });

  describe('--max-count', () => {
    let t: PlacementTestDatabase;
    beforeAll(async () => {
      t = await placementDatabase(engine, 'odm_limited');
      await seed(t, { roots: 2, consumers: 7 });
    });
    afterAll(() => t?.destroy());

    it('one batch at a time: exit 1 while work was done, then 0', async () => {
      const args = ['db', 'online-data-migrations', '--placement-url', t.url, '--max-count'];
      const first = await runCli([...args, '5']);
      expect(first.stdout).toBe(
        expectedOutput(
          [
            '2 rows matched query set_root_provider_ids, 2 migrated',
            '3 rows matched query create_incomplete_consumers, 3 migrated',
          ],
          [
            ['set_root_provider_ids', 2, 2],
            ['create_incomplete_consumers', 3, 3],
          ],
          false,
        ),
      );
      expect(first.code).toBe(1);

      const second = await runCli([...args, '2', '--json']);
      expect(second.code).toBe(1);
      expect(parseJson(second)).toMatchObject({
        limited: true,
        batchSize: 2,
        batches: 1,
        migrations: [
          { name: 'set_root_provider_ids', found: 0, done: 0 },
          { name: 'create_incomplete_consumers', found: 2, done: 2 },
        ],
        exitCode: 1,
      });

      const third = await runCli([...args, '100']);
      expect(third.stdout).toContain(
        '2 rows matched query create_incomplete_consumers, 2 migrated',
      );
      expect(third.code).toBe(1);
      const last = await runCli([...args, '100']);
      expect(last.code).toBe(0);
      expect(last.stdout).not.toMatch(/rows matched/);
      expect(await count(t.knex('consumers'))).toBe(7);
    });

    it.each([
      ['0', /^Error: Must supply a positive value for max_count \(got "0"\)/m],
      ['-3', /^Error: Must supply a positive value for max_count \(got "-3"\)/m],
      ['abc', /^Error: --max-count must be a whole number, and "abc" is not one/m],
      ['1.5', /^Error: --max-count must be a whole number, and "1\.5" is not one/m],
      ['', /^Error: --max-count must be a whole number, and "" is not one/m],
      [
        '1e20',
        /^Error: --max-count must be a whole number, and "1e20" is not one \(.*no exponent/m,
      ],
      [
        '100000000000000000000',
        /^Error: --max-count 100000000000000000000 is too large: at most 9007199254740991/m,
      ],
    ])('--max-count "%s" exits 127, saying what is wrong', async (value, message) => {
      const r = await runCli([
        'db',
        'online-data-migrations',
        '--placement-url',
        t.url,
        `--max-count=${value}`,
      ]);
      expect(r.code).toBe(127);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(
        value === '0' || value === '-3' ? /whole number, and/ : /positive/,
      );
      expect(r.stdout).toBe('');
    });

    it('an unknown flag is a usage error, 127 too (never 1, "run me again")', async () => {
      const r = await runCli(['db', 'online-data-migrations', '--placement-url', t.url, '--nope']);
      expect(r.code).toBe(127);
    });
  });

  describe('incomplete consumer ids from placement.conf and flags', () => {
    let t: PlacementTestDatabase;
    beforeAll(async () => {
      t = await placementDatabase(engine, 'odm_ids');
      await seed(t, { roots: 0, consumers: 4 });
    });
    afterAll(() => t?.destroy());

    it('reads [placement] incomplete_consumer_*_id; a flag overrides the file', async () => {
      const conf = writePlacementConf(t.url, {
        placement: {
          incomplete_consumer_project_id: 'conf-project',
          incomplete_consumer_user_id: 'conf-user',
        },
      });
      const r = await runCli([
        'db',
        'online-data-migrations',
        '--placement-config',
        conf,
        '--incomplete-consumer-user-id',
        'flag-user',
      ]);
      expect(r.code).toBe(0);
      const owners = await t
        .knex('consumers as c')
        .join('projects as p', 'p.id', 'c.project_id')
        .join('users as u', 'u.id', 'c.user_id')
        .distinct('p.external_id as project', 'u.external_id as user');
      expect(owners).toEqual([{ project: 'conf-project', user: 'flag-user' }]);
      expect(await count(t.knex('projects').where({ external_id: INCOMPLETE }))).toBe(0);
    });
  });

  describe('rows that need a human, and failures', () => {
    let t: PlacementTestDatabase;
    let parent: number;
    let child: number;
    beforeAll(async () => {
      t = await placementDatabase(engine, 'odm_unfixable');
      parent = await addProvider(t.knex, { root: null });
      child = await addProvider(t.knex, { parent, root: null });
    });
    afterAll(() => t?.destroy());

    it("a child with no root gets its parent's root, counted as placement-manage counts it", async () => {
      const r = await runCli(['db', 'online-data-migrations', '--placement-url', t.url]);
      expect(r.stdout).toBe(
        expectedOutput(
          ['2 rows matched query set_root_provider_ids, 2 migrated'],
          [
            ['set_root_provider_ids', 2, 2],
            ['create_incomplete_consumers', 0, 0],
          ],
        ),
      );
      expect(r.code).toBe(0);
      const rows = await t.knex('resource_providers').whereIn('id', [parent, child]);
      for (const row of rows) expect(Number(row.root_provider_id)).toBe(parent);
    });

    it.runIf(engine === 'sqlite')(
      'a provider whose parent row is gone becomes its own root, as placement makes it',
      async () => {
        await t.knex.raw('PRAGMA foreign_keys = OFF');
        const lost = await addProvider(t.knex, { parent: 987654, root: null });
        await t.knex.raw('PRAGMA foreign_keys = ON');
        const r = await runCli(['db', 'online-data-migrations', '--placement-url', t.url]);
        expect(r.stdout).toContain('1 rows matched query set_root_provider_ids, 1 migrated');
        expect(r.code).toBe(0);
        const row = await t.knex('resource_providers').where({ id: lost }).first();
        expect(Number(row.root_provider_id)).toBe(lost);
      },
    );

    it('providers whose parents never reach a root (a cycle) are reported, exit 2', async () => {
      const a = await addProvider(t.knex, { root: null });
      const b = await addProvider(t.knex, { parent: a, root: null });
      await t.knex('resource_providers').where({ id: a }).update({ parent_provider_id: b });
      const r = await runCli(['db', 'online-data-migrations', '--placement-url', t.url]);
      expect(r.stdout).toBe(
        [
          'Running batches of 50 until complete',
          '2 rows matched query set_root_provider_ids, 0 migrated',
          ...TABLE_HEADER,
          '|    set_root_provider_ids    |      2      |     0     |',
          '| create_incomplete_consumers |      0      |     0     |',
          TABLE_HEADER[0],
          'set_root_provider_ids: 2 resource providers have no root_provider_id and parents that never reach a root (a parent_provider_id cycle), so their root cannot be set by rule.',
          '',
        ].join('\n'),
      );
      expect(r.stderr).toMatch(/Hint: Break the cycle/);
      expect(r.code).toBe(2);
      expect(await count(t.knex('resource_providers').whereNull('root_provider_id'))).toBe(2);
    });

    it('a database without placement tables: every migration fails, exit 2', async () => {
      const empty = await placementDatabase(engine, 'odm_empty', 'b4ed3a175331');
      try {
        await empty.knex.schema.dropTable('allocations');
        await empty.knex.schema.dropTable('resource_provider_traits');
        await empty.knex.schema.dropTable('resource_providers');
        const r = await runCli(['db', 'online-data-migrations', '--placement-url', empty.url]);
        expect(r.stdout).toContain('Error attempting to run set_root_provider_ids');
        expect(r.stdout).toContain('Error attempting to run create_incomplete_consumers');
        expect(r.stdout).toContain('Some migrations failed unexpectedly. Check log for details.');
        expect(r.stderr).toMatch(/resource_providers/);
        expect(r.code).toBe(2);
      } finally {
        await empty.destroy();
      }
    });

    it("cannot connect: placement-upgrade's own code (5), not a migration result", async () => {
      const r = await runCli([
        'db',
        'online-data-migrations',
        '--placement-url',
        'mysql+pymysql://root@127.0.0.1:1/nowhere',
        '--connect-timeout',
        '2',
      ]);
      expect(r.code).toBe(5);
    });
  });

  describe('two runs at the same time', () => {
    let t: PlacementTestDatabase;
    beforeAll(async () => {
      t = await placementDatabase(engine, 'odm_race');
      await seed(t, { roots: 40, consumers: 4000 });
    });
    afterAll(() => t?.destroy());

    it('both exit 0 and no consumer, project or user is duplicated', async () => {
      const args = [
        'db',
        'online-data-migrations',
        '--placement-url',
        t.url,
        '--connect-timeout',
        '60',
      ];
      // Hold the rows both runs write first until both have started (printed
      // their first line): otherwise the first can finish before the second is
      // up, on a quiet machine or a loaded one.
      const gate = await t.knex.transaction();
      await gate('resource_providers').update({ generation: t.knex.raw('generation') });
      let started = 0;
      let bothStarted: () => void = () => undefined;
      const ready = new Promise<void>((r) => (bothStarted = r));
      const watch = () => {
        let seen = false;
        return (chunk: string) => {
          if (!seen && chunk.includes('Running batches')) {
            seen = true;
            if (++started === 2) bothStarted();
          }
        };
      };
      const both = Promise.all([
        runCli(args, { onStdout: watch() }),
        runCli(args, { onStdout: watch() }),
      ]);
      await Promise.race([ready, both]);
      await new Promise((r) => setTimeout(r, 300)); // and reached the gate
      await gate.rollback();
      const [a, b] = await both;
      expect([a.code, b.code], `${a.stderr}\n${b.stderr}`).toEqual([0, 0]);
      const completed = (r: typeof a) =>
        Number(/\| create_incomplete_consumers \|\s+\d+\s+\|\s+(\d+)\s+\|/.exec(r.stdout)?.[1]);
      const roots = (r: typeof a) =>
        Number(/\|\s+set_root_provider_ids\s+\|\s+\d+\s+\|\s+(\d+)\s+\|/.exec(r.stdout)?.[1]);
      // Between them they created each consumer and fixed each root exactly
      // once. On MariaDB and PostgreSQL both really work at the same time; a
      // SQLite writer that commits and begins again at once can keep the file's
      // lock from the other (whose busy handler sleeps), so there one may do it all.
      if (engine !== 'sqlite') {
        expect(completed(a)).toBeGreaterThan(0);
        expect(completed(b)).toBeGreaterThan(0);
      }
      expect(completed(a) + completed(b)).toBe(4000);
      expect(roots(a) + roots(b)).toBe(40);
      expect(await count(t.knex('consumers'))).toBe(4000);
      const distinct = await t.knex('consumers').countDistinct({ n: 'uuid' }).first();
      expect(Number(distinct?.n)).toBe(4000);
      expect(await count(t.knex('projects'))).toBe(1);
      expect(await count(t.knex('users'))).toBe(1);
      expect(await count(t.knex('resource_providers').whereNull('root_provider_id'))).toBe(0);
    });
  });

  describe.skipIf(!realPlacement)('batch by batch, the same as the real placement-manage', () => {
    // One shape for every pair: providers without a root (parentless, and
    // children of them), and consumers without a row scattered among many
    // that have one, so that a batch has to look past windows of complete
    // ones to fill itself as placement's INSERT … SELECT … LIMIT does.
    const complete = Array.from({ length: 700 }, () => randomUUID());
    const missing = Array.from({ length: 95 }, () => randomUUID());
    async function shape(t: PlacementTestDatabase): Promise<void> {
      const rps: number[] = [];
      for (let i = 0; i < 6; i++) rps.push(await addProvider(t.knex, { root: null }));
      for (let i = 0; i < 3; i++) await addProvider(t.knex, { parent: rps[i]!, root: null });
      for (let i = 0; i < 2; i++) rps.push(await addProvider(t.knex));
      const project = await insertId(t.knex, 'projects', { external_id: 'real-project' });
      const user = await insertId(t.knex, 'users', { external_id: 'real-user' });
      await insertMany(
        t.knex,
        'consumers',
        complete.map((uuid) => ({ uuid, project_id: project, user_id: user, generation: 1 })),
      );
      await insertMany(
        t.knex,
        'allocations',
        [...complete, ...missing].flatMap((consumer_id, i) =>
          [0, 1].map((rc) => ({
            resource_provider_id: rps[i % rps.length],
            consumer_id,
            resource_class_id: rc,
            used: 1,
          })),
        ),
      );
    }

    /** Runs both tools with these arguments until placement-manage exits 0 (at most `runs` times), comparing every run. */
    async function sideBySide(name: string, maxCount: string | undefined, runs: number) {
      const ours = await placementDatabase(engine, `odm_o${name}`);
      const theirs = await placementDatabase(engine, `odm_t${name}`);
      try {
        await shape(ours);
        await shape(theirs);
        const conf = writePlacementConf(theirs.url);
        const extra = maxCount === undefined ? [] : ['--max-count', maxCount];
        const seen: number[] = [];
        for (let run = 1; run <= runs; run++) {
          const real = await placementManage(conf, ['db', 'online_data_migrations', ...extra]);
          const mine = await runCli([
            'db',
            'online-data-migrations',
            '--placement-url',
            ours.url,
            ...extra,
          ]);
          expect(real.stderr).not.toMatch(/Traceback/);
          expect(mine.stdout, `--max-count ${maxCount ?? '(none)'}, run ${run}`).toBe(real.stdout);
          expect(mine.code, `--max-count ${maxCount ?? '(none)'}, run ${run}`).toBe(real.code);
          seen.push(real.code);
          if (real.code === 0) break;
        }
        const consumers = async (t: PlacementTestDatabase) =>
          (await t.knex('consumers').orderBy('uuid').pluck('uuid')) as string[];
        if (seen.at(-1) === 0) expect(await consumers(ours)).toEqual(await consumers(theirs));
        return seen;
      } finally {
        await ours.destroy();
        await theirs.destroy();
      }
    }

    it('without --max-count', async () => {
      expect(await sideBySide('d', undefined, 1)).toEqual([0]);
    });

    it('--max-count 30: exit 1 until the run that finds nothing, then 0', async () => {
      // 9 roots + 95 consumers: 30, 30, 30, 14, then nothing.
      expect(await sideBySide('30', '30', 6)).toEqual([1, 1, 1, 1, 0]);
    });

    it('--max-count 1, across the boundary between the two migrations', async () => {
      expect(await sideBySide('1', '1', 12)).toEqual(Array(12).fill(1));
    });

    it('--max-count larger than the work', async () => {
      expect(await sideBySide('big', '100000', 3)).toEqual([1, 0]);
    });

    it('a bad --max-count: 127 from both', async () => {
      const t = await placementDatabase(engine, 'odm_bad');
      try {
        for (const n of ['0', 'x']) {
          const real = await placementManageOn(t.url, [
            'db',
            'online_data_migrations',
            '--max-count',
            n,
          ]);
          const mine = await runCli([
            'db',
            'online-data-migrations',
            '--placement-url',
            t.url,
            '--max-count',
            n,
          ]);
          expect(real.code, n).toBe(127);
          expect(mine.code, n).toBe(127);
        }
      } finally {
        await t.destroy();
      }
    });
  });
});
