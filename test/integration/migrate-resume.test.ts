/**
 * migrate killed at any moment (kill -9) resumes to identical data; nova
 * writing during the copy fails verification. Both watch the CLI's plain
 * progress lines to choose the moment, as an operator's terminal would.
 */
import { expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { openDatabase } from '../../src/db/connect.js';
import { parseConnectionUrl, type Engine } from '../../src/db/url.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { parseJson, runCli, runWatching } from '../helpers/cli.js';
import { freshDatabases, testEngines, type TestDatabase } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';
import { expectIdentical } from '../helpers/row-compare.js';
import { ADMIN_URLS } from '../helpers/servers.js';

const fresh = freshDatabases();

/** A Queens nova_api big enough that copying its allocations in batches of 25 takes a while. */
const interruptibleSource = (engine: Engine, prefix: string) =>
  novaApiSource(fresh, engine, prefix, {
    release: 'queens',
    providers: 30,
    consumers: 1500,
    seed: 21,
  });

/** migrate --apply in small batches, so that an interruption lands mid-table. */
const applyArgs = (source: TestDatabase, target: TestDatabase, batchSize = 25) => [
  'migrate',
  '--source',
  source.url,
  '--target',
  target.url,
  '--apply',
  '--batch-size',
  String(batchSize),
  '--revision',
  'stein',
];

/** The same command again finishes the run, and the target equals the source. */
async function expectResumes(args: string[], source: TestDatabase, target: TestDatabase) {
  const resumed = await runCli([...args, '--json']);
  expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
  expect(parseJson<{ outcome: string }>(resumed).outcome).toBe('migrated');
  await expectIdentical(source, target);
}

// A different engine on each side, so resume also crosses engines.
const engines = testEngines();
const pairs: [Engine, Engine][] =
  engines.length === 3
    ? [
        ['mysql', 'postgresql'],
        ['postgresql', 'sqlite'],
        ['sqlite', 'mysql'],
      ]
    : engines.map((e) => [e, e]);

describeEach(pairs)('kill -9 during migrate %s → %s, then resume', (from, to) => {
  let source: TestDatabase;

  // [moment, line that announces it, ms to wait after the line]. Each step of
  // this small cloud takes well under a second on a quiet machine, so the kills
  // go at once or nearly: a longer delay lets the step finish first.
  const killPoints: [string, (line: string) => boolean, number][] = [
    ['while creating the schema', (l) => l.startsWith('Creating placement'), 0],
    ['as resource_providers starts', (l) => l.startsWith('copy resource_providers'), 0],
    ['in the middle of allocations', (l) => l.startsWith('copy allocations'), 20],
    ['while verifying', (l) => l.startsWith('Verifying'), 0],
  ];

  it.each(killPoints)(
    'killed %s: the rerun resumes and ends identical',
    async (_name, when, delay) => {
      source ??= await interruptibleSource(from, 'resume_src');
      const target = await fresh(to, 'resume_dst');
      const args = applyArgs(source, target);
      const killed = await runWatching(args, when, async (child) => {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        child.kill('SIGKILL');
      });
      expect(killed.signal, killed.lines.join('\n')).toBe('SIGKILL');
      // A kill that lands after verification ended tests another path: say so rather than pass.
      const pastVerification = killed.lines.some((l) =>
        /^(Running the online|Upgrading the schema)/.test(l),
      );
      expect(pastVerification, killed.lines.join('\n')).toBe(false);

      const plan = await runCli([
        'migrate',
        '--source',
        source.url,
        '--target',
        target.url,
        '--json',
      ]);
      const planned = parseJson<{ outcome: string }>(plan);
      // Killed before the marker table existed, the target is still empty; after, it is an interrupted run.
      expect(['interrupted', 'planned']).toContain(planned.outcome);
      expect(plan.code).toBe(planned.outcome === 'interrupted' ? ExitCode.INTERRUPTED_RUN : 0);

      await expectResumes(args, source, target);
    },
  );
});

// SQLite writers wait for the snapshot's read lock, so nova cannot change it mid-copy there.
describeEach(engines.filter((e) => e !== 'sqlite'))(
  'nova writing during the copy (%s)',
  (engine) => {
    it('fails verification (22), then a restart after nova stopped succeeds', async () => {
      const source = await novaApiSource(fresh, engine, 'writer_src', {
        release: 'train',
        providers: 20,
        consumers: 800,
        seed: 4,
      });
      // Stays open: it plays nova writing during the copy.
      const db = await source.open();
      const target = await fresh(engine, 'writer_dst');
      const args = applyArgs(source, target, 20);
      const run = await runWatching(
        args,
        (l) => l.startsWith('copy allocations'),
        async () => {
          // nova-placement-api still running: a new instance is scheduled.
          const rp = await db.knex('resource_providers').first('id');
          await db.knex('allocations').insert({
            resource_provider_id: rp?.['id'],
            consumer_id: '99999999-9999-9999-9999-999999999999',
            resource_class_id: 0,
            used: 1,
          });
        },
      );
      expect(run.code, run.lines.join('\n')).toBe(ExitCode.VERIFICATION_FAILED);
      expect(run.stdout).toMatch(/nova changed allocations while the copy ran/);
      expect(run.stdout).toMatch(/Stop nova-placement-api/);
      await db.close();

      const restarted = await runCli([...args, '--restart', '--json']);
      expect(restarted.code, restarted.stderr).toBe(0);
      await expectIdentical(source, target);
    });
  },
);

describeEach(engines)('SIGTERM during the copy (%s), as a playbook timeout sends it', (engine) => {
  it('exits 143 saying so, and the rerun resumes to identical data', async () => {
    const source = await interruptibleSource(engine, 'term_src');
    const target = await fresh(engine, 'term_dst');
    const args = applyArgs(source, target);
    const run = await runWatching(
      args,
      (l) => l.startsWith('copy allocations'),
      (child) => {
        child.kill('SIGTERM');
      },
    );
    const output = run.lines.join('\n');
    expect(run.code, output).toBe(ExitCode.INTERRUPTED_SIGTERM);
    expect(output).toMatch(
      /^Interrupted by SIGTERM\. What was committed before stays committed\.$/m,
    );
    expect(output).toMatch(/^Hint: Run the same command again to resume/m);

    await expectResumes(args, source, target);
  });
});

type ServerEngine = Exclude<Engine, 'sqlite'>;

/** An empty schema at the run's revision, which migrate fills as it is. */
async function syncEmptySchema(target: TestDatabase): Promise<void> {
  const sync = await runCli(['db', 'sync', '--placement-url', target.url, '--revision', 'stein']);
  expect(sync.code, sync.stdout + sync.stderr).toBe(0);
}

/**
 * Ends every session on the database `name` from the server's side, as a
 * restart or an operator would, except the session `spare` (the test's own).
 */
async function endSessions(engine: ServerEngine, name: string, spare: number): Promise<number> {
  const admin = await openDatabase(parseConnectionUrl(ADMIN_URLS[engine], 'test admin'), {
    max: 1,
  });
  try {
    if (engine === 'mysql') {
      const ids = admin.dialect
        .rows<{ id: number }>(
          await admin.knex.raw(
            'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> ? AND ID <> CONNECTION_ID()',
            [name, spare],
          ),
        )
        .map((r) => r.id);
      for (const id of ids) await admin.knex.raw(`KILL CONNECTION ${Number(id)}`);
      return ids.length;
    }
    const ended = admin.dialect.rows<{ pid: number }>(
      await admin.knex.raw(
        'SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity WHERE datname = ? AND pid <> ? AND pid <> pg_backend_pid()',
        [name, spare],
      ),
    );
    return ended.length;
  } finally {
    await admin.close();
  }
}

/**
 * The statements running on database `name` that write resource_providers.
 * With the held row, the copy's INSERT stays among them until the sessions
 * end (MariaDB does not always list such a wait in INNODB_TRX; its process
 * list shows the statement).
 */
async function providerWrites(engine: ServerEngine, name: string): Promise<string[]> {
  const admin = await openDatabase(parseConnectionUrl(ADMIN_URLS[engine], 'test admin'), {
    max: 1,
  });
  try {
    const sql =
      engine === 'mysql'
        ? `SELECT INFO AS query FROM information_schema.PROCESSLIST
            WHERE DB = ? AND COMMAND = 'Query' AND ID <> CONNECTION_ID()`
        : `SELECT query FROM pg_stat_activity
            WHERE datname = ? AND state = 'active' AND pid <> pg_backend_pid()`;
    return admin.dialect
      .rows<{ query: string | null }>(await admin.knex.raw(sql, [name]))
      .map((r) => r.query ?? '')
      .filter((q) => /^\s*(INSERT INTO|COPY)\s+["`]?resource_providers\b/i.test(q));
  } finally {
    await admin.close();
  }
}

/**
 * Holds, in an open transaction on the target, a resource provider with the
 * id of the source's last one, so the copy commits its first batches of
 * resource_providers and then waits on that row: a moment inside the copy
 * that no timing decides. `release` rolls it back, leaving no trace.
 */
async function holdLastProvider(source: TestDatabase, target: TestDatabase) {
  const s = await source.open();
  let lastId: number;
  try {
    const row = s.dialect.rows<{ id: number }>(
      await s.knex.raw('SELECT MAX(id) AS id FROM resource_providers'),
    )[0];
    lastId = Number(row?.id);
  } finally {
    await s.close();
  }
  const t = await target.open();
  const trx = await t.knex.transaction();
  const session = t.dialect.rows<{ id: number }>(
    await trx.raw(
      target.engine === 'mysql' ? 'SELECT CONNECTION_ID() AS id' : 'SELECT pg_backend_pid() AS id',
    ),
  )[0];
  await trx('resource_providers').insert({
    id: lastId,
    uuid: '00000000-0000-4000-8000-00000000beef',
    name: 'held by the test',
    generation: 0,
  });
  return {
    session: Number(session?.id),
    release: async () => {
      await trx.rollback().catch(() => undefined);
      await t.close();
    },
  };
}

/** Polls (a query, not a clock) until `check` holds; fails loudly after a minute. */
async function until<T>(what: string, probe: () => Promise<T>, check: (v: T) => boolean) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describeEach(engines.filter((e): e is ServerEngine => e !== 'sqlite'))(
  'the target server ends the sessions during the copy (%s)',
  (engine) => {
    it('exits 5 naming the target and how to resume, without the SQL; the rerun resumes', async () => {
      const source = await interruptibleSource(engine, 'lost_src');
      const target = await fresh(engine, 'lost_dst');
      const args = applyArgs(source, target);
      await syncEmptySchema(target);
      const held = await holdLastProvider(source, target);
      let ended = 0;
      let waiting: string[] = [];
      try {
        const run = await runWatching(
          args,
          (l) => l.startsWith('copy resource_providers'),
          async () => {
            waiting = await until(
              'the copy to write resource_providers',
              () => providerWrites(engine, target.name),
              (w) => w.length > 0,
            );
            ended = await endSessions(engine, target.name, held.session);
          },
        );
        const output = run.lines.join('\n');
        expect(run.actError, output).toBeNull();
        // The moment was the one meant: the copy of resource_providers,
        // mid-table, not the schema or the verification.
        expect(waiting.join('\n'), output).toMatch(/resource_providers/i);
        expect(output).not.toMatch(/^copied resource_providers/m);
        expect(ended, output).toBeGreaterThan(0);
        expect(run.code, output).toBe(ExitCode.CANNOT_CONNECT);
        expect(output).toMatch(
          new RegExp(`^Error: Lost the connection to \\S*${target.name} while copying: `, 'm'),
        );
        expect(output).toMatch(/^Hint: .*migrate --apply resumes after the last committed row/m);
        // No statement leaks into the message (the banner's "as COPY
        // streams" is prose, not SQL).
        expect(output).not.toMatch(/INSERT INTO|COPY \S+ (\(.*\) )?(FROM|TO) /);
        expect(output).not.toMatch(/^\s+at /m);
      } finally {
        await held.release();
      }
      await expectResumes(args, source, target);
    });
  },
);

// PostgreSQL only: its lock_timeout can be set on the test's own database;
// MySQL's innodb_lock_wait_timeout is the server's (50 s), not ours to change.
describeEach(engines.filter((e) => e === 'postgresql'))(
  'another session holds a row the copy needs past the lock timeout (%s)',
  () => {
    it('exits 14 naming the target and what to look for; the rerun resumes', async () => {
      const source = await interruptibleSource('postgresql', 'held_src');
      const target = await fresh('postgresql', 'held_dst');
      const args = applyArgs(source, target);
      await syncEmptySchema(target);
      const t = await target.open();
      await t.knex.raw(`ALTER DATABASE "${target.name}" SET lock_timeout = '1s'`);
      await t.close();
      const held = await holdLastProvider(source, target);
      let run;
      try {
        run = await runCli(args);
      } finally {
        await held.release();
      }
      const output = run.stdout + run.stderr;
      expect(run.code, output).toBe(ExitCode.LOCKED);
      expect(output).toMatch(
        new RegExp(
          `^Error: \\S*${target.name} could not give this run a lock it needed while copying: `,
          'm',
        ),
      );
      expect(output).toMatch(/^Hint: Another session holds rows or tables this work needs/m);
      expect(output).not.toMatch(/This is a bug|^\s+at /m);
      expect(output).not.toMatch(/^copied resource_providers/m);
      await expectResumes(args, source, target);
    });
  },
);

describeEach(engines)('an interrupted run that left a partial, unstamped schema (%s)', (engine) => {
  it('is recognised, rebuilt and completed', async () => {
    const source = await novaApiSource(fresh, engine, 'partial_src', {
      release: 'rocky',
      providers: 6,
      consumers: 60,
      seed: 2,
    });
    const target = await fresh(engine, 'partial_dst');
    // What a kill between two CREATE TABLEs leaves on MySQL: the marker, some
    // empty tables, an empty alembic_version.
    expect(
      (await runCli(['db', 'sync', '--placement-url', target.url, '--revision', 'stein'])).code,
    ).toBe(0);
    const t = await target.open();
    await t.knex('alembic_version').del();
    await t.knex.schema.dropTable('resource_provider_traits');
    await t.knex.schema.dropTable('users');
    await t.knex.schema.createTable('placement_upgrade_migration', (b) => {
      b.integer('id').primary();
      b.string('source', 255).notNullable();
      b.string('started_at', 32).notNullable();
    });
    await t.close();
    const plan = await runCli([
      'migrate',
      '--source',
      source.url,
      '--target',
      target.url,
      '--json',
    ]);
    expect(plan.code).toBe(ExitCode.INTERRUPTED_RUN);
    const r = await runCli([
      'migrate',
      '--source',
      source.url,
      '--target',
      target.url,
      '--apply',
      '--revision',
      'stein',
      '--json',
    ]);
    expect(r.code, r.stdout).toBe(0);
    await expectIdentical(source, target);
  });
});
