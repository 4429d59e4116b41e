/**
 * The verdicts a playbook acts on: "already migrated" (3) only when every
 * phase is done, a rerun that finishes work is "changed" (0), a target a
 * migration has not finished is refused by every other command, and what
 * can be checked before writing is checked in the plan.
 */
import { expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { migrate, type MigrateOptions } from '../../src/copy/migrate.js';
import { readRun } from '../../src/copy/target.js';
import type { Engine } from '../../src/db/url.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { HEAD, INITIAL_REVISION } from '../../src/migrations/index.js';
import { readSchemaRevision } from '../../src/schema/migrator.js';
import type { ProgressEvent } from '../../src/progress/events.js';
import { migrateArgs, parseJson, runCli, runWatching } from '../helpers/cli.js';
import { freshDatabases, testEngines, withOpen, type TestDatabase } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';
import { loadReference } from '../helpers/reference-schema.js';
import { expectIdentical } from '../helpers/row-compare.js';

const fresh = freshDatabases();
const engines = testEngines();

/** Row counts of every table of a database, to prove that a refusal wrote nothing. */
async function rowCounts(db: TestDatabase): Promise<Record<string, number>> {
  return withOpen(db, async (d) => {
    const out: Record<string, number> = {};
    for (const t of await d.dialect.listTables(d.knex)) {
      const row = (await d.knex(t).count({ n: '*' }).first()) as { n: number | string };
      out[t] = Number(row.n);
    }
    return out;
  });
}

/**
 * Holds a lock that lets a table of the target be read but not written or
 * altered, so a run that reaches the phase that writes it waits there, where
 * the test kills it. MySQL: LOCK TABLES … READ; PostgreSQL: SHARE mode.
 * Released by the returned function.
 */
async function holdForReading(target: TestDatabase, table: string): Promise<() => Promise<void>> {
  const d = await target.open();
  if (target.engine === 'mysql') await d.knex.raw(`LOCK TABLES ${table} READ`);
  else {
    await d.knex.raw('BEGIN');
    await d.knex.raw(`LOCK TABLE ${table} IN SHARE MODE`);
  }
  return async () => {
    await d.knex.raw(target.engine === 'mysql' ? 'UNLOCK TABLES' : 'COMMIT');
    await d.close();
  };
}

// SQLite locks the whole file: a lock that holds the finish would hold the copy's bookkeeping too.
const lockable = engines.filter((e): e is Exclude<Engine, 'sqlite'> => e !== 'sqlite');

/** What an uninterrupted run leaves: row counts and schema, to hold the resumed one against. */
async function outcomeOf(target: TestDatabase) {
  const counts = await rowCounts(target);
  const schema = await withOpen(target, (d) => d.dialect.introspect(d.knex));
  return { counts, schema };
}

describeEach(lockable)('killed after the copy was verified (%s)', (engine) => {
  const phases: [string, 'queens' | 'train', string, string][] = [
    // [phase, release of the source, the line that announces it, the table it waits on]
    // create_incomplete_consumers writes consumers; the last revision drops inventories' indexes.
    [
      'during the online data migrations',
      'queens',
      'Running the online data migrations',
      'consumers',
    ],
    ['during the schema upgrade', 'train', 'Upgrading the schema', 'inventories'],
  ];

  it.each(phases)(
    'killed %s: the plan says interrupted (24), the rerun finishes (0), then 3',
    async (name, release, announce, blocked) => {
      const source = await novaApiSource(fresh, engine, 'finish_src', {
        release,
        providers: 15,
        consumers: 600,
        seed: 31,
      });
      const target = await fresh(engine, 'finish_dst');
      const args = migrateArgs(source, target, '--apply', '--revision', 'head');
      let unlock: (() => Promise<void>) | undefined;
      // Once the copy is verified, the phase cannot write its table: it waits there.
      const killed = await runWatching(
        args,
        (line) => line.startsWith('Verifying'),
        async () => void (unlock = await holdForReading(target, blocked)),
        (line, child) => {
          if (line.startsWith(announce)) child.kill('SIGKILL');
        },
      );
      await unlock?.();
      const log = killed.lines.join('\n');
      expect(killed.actError, log).toBeNull();
      expect(killed.signal, log).toBe('SIGKILL');
      // A kill that landed in another phase tests another path: say so rather than pass.
      const run = await withOpen(target, (d) => readRun(d));
      expect(run?.phase, `killed ${name}, but the run was not in its finish:\n${log}`).toBe(
        'finish',
      );
      const revision = await withOpen(target, (d) => readSchemaRevision(d));
      expect(revision, log).not.toBe(HEAD);
      if (release === 'queens') expect(revision, log).toBe(INITIAL_REVISION);

      const plan = await runCli([...migrateArgs(source, target), '--json']);
      expect(plan.code, plan.stdout).toBe(ExitCode.INTERRUPTED_RUN);
      // Other commands refuse the unfinished target, and change nothing.
      const sync = await runCli(['db', 'sync', '--placement-url', target.url]);
      expect(sync.code, sync.stderr).toBe(ExitCode.UNFINISHED_MIGRATION);

      const resumed = await runCli([...args, '--json']);
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      expect(parseJson<{ outcome: string }>(resumed).outcome).toBe('migrated');
      const again = await runCli([...args, '--json']);
      expect(again.code, again.stdout).toBe(ExitCode.ALREADY_MIGRATED);

      const uninterrupted = await fresh(engine, 'finish_ref');
      const reference = await runCli(migrateArgs(source, uninterrupted, '--apply'));
      expect(reference.code, reference.stderr).toBe(0);
      expect(await outcomeOf(target)).toEqual(await outcomeOf(uninterrupted));
      expect((await outcomeOf(target)).schema).toEqual(loadReference(engine)[HEAD]);
    },
  );
});

const queensCloud = (engine: Engine, prefix: string) =>
  novaApiSource(fresh, engine, prefix, {
    release: 'queens',
    providers: 12,
    consumers: 400,
    seed: 7,
  });

/** Runs migrate() in-process until `stopWhen` sees a progress event, leaving a half-copied target. */
async function halfCopied(engine: Engine): Promise<{ source: TestDatabase; target: TestDatabase }> {
  const source = await queensCloud(engine, 'half_src');
  const target = await fresh(engine, 'half_dst');
  const s = await source.open();
  const t = await target.open();
  const options: MigrateOptions = {
    apply: true,
    batchSize: 20,
    skipOrphans: false,
    restart: false,
    maxDifferences: 5,
    lockTimeoutSeconds: 10,
    onProgress: (e: ProgressEvent) => {
      if (e.type === 'table-progress' && e.phase === 'copy' && e.table === 'allocations')
        throw new Error('simulated crash during the copy');
    },
  };
  try {
    await expect(migrate(s, t, options)).rejects.toThrow(/simulated crash/);
  } finally {
    await Promise.all([s.close(), t.close()]);
  }
  return { source, target };
}

describeEach(engines)('a target that a migration has not finished (%s)', (engine) => {
  it('is refused by every other command (25, nothing changed), and upgrade check fails it', async () => {
    const { source, target } = await halfCopied(engine);
    const before = await rowCounts(target);
    const placement = ['--placement-url', target.url];
    for (const command of [
      ['db', 'sync'],
      ['db', 'stamp', 'head'],
      ['db', 'online-data-migrations'],
      ['verify', '--target', target.url, '--source', source.url],
      ['api', 'serve', '--port', '0'],
    ]) {
      const args = command[0] === 'verify' ? command : [...command, ...placement];
      const r = await runCli([...args, '--json']);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(
        ExitCode.UNFINISHED_MIGRATION,
      );
      const error = parseJson<{ error: { code: string; hint: string } }>(r).error;
      expect(error.code).toBe('unfinished_migration');
      expect(error.hint).toMatch(/migrate --apply/);
    }
    const check = await runCli(['upgrade', 'check', ...placement]);
    expect(check.code, check.stdout).toBe(2);
    expect(check.stdout).toMatch(/Check: Unfinished Migration\s*\|\s*\n\| Result: Failure/);
    expect(await rowCounts(target)).toEqual(before);

    // And migrate finishes it.
    const resumed = await runCli([...migrateArgs(source, target, '--apply'), '--json']);
    expect(resumed.code, resumed.stdout).toBe(0);
    const sync = await runCli(['db', 'sync', ...placement]);
    expect(sync.code, sync.stderr).toBe(0);
  });
});

describeEach(engines)('a half-copied target that something else wrote into (%s)', (engine) => {
  it('is exit 21 naming the collision and --restart, never a bug report; --restart recovers', async () => {
    const { source, target } = await halfCopied(engine);
    // What placement-manage's online data migrations would have done to it:
    // a consumer for an allocation whose consumers row is still to be copied.
    // It took the next id, so the resumed copy continues after it and meets
    // the source's own row for that consumer.
    const consumer = (await withOpen(source, (d) =>
      d.knex('consumers').orderBy('id', 'desc').first(),
    )) as Record<string, unknown>;
    await withOpen(target, (d) =>
      d.knex('consumers').insert({ ...consumer, id: Number(consumer['id']) - 5, generation: 0 }),
    );
    const resumed = await runCli(migrateArgs(source, target, '--apply', '--revision', 'stein'));
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(ExitCode.TARGET_HAS_OTHER_DATA);
    expect(resumed.stderr).toMatch(/holds rows this migration did not write/);
    expect(resumed.stderr).toMatch(/--restart/);
    expect(resumed.stderr).not.toMatch(/bug in placement-upgrade|\n\s+at /);
    const restarted = await runCli(
      migrateArgs(source, target, '--apply', '--restart', '--revision', 'stein'),
    );
    expect(restarted.code, restarted.stdout + restarted.stderr).toBe(0);
    await expectIdentical(source, target);
  });
});

describeEach(engines)('migrate --tables (%s)', (engine) => {
  it('copies only the named tables, finishes nothing, and a later full run completes', async () => {
    const source = await queensCloud(engine, 'tables_src');
    const target = await fresh(engine, 'tables_dst');
    const partial = await runCli([
      ...migrateArgs(source, target, '--apply', '--tables', 'allocations'),
      '--json',
    ]);
    expect(partial.code, partial.stdout + partial.stderr).toBe(0);
    const doc = parseJson<{ outcome: string; hint: string }>(partial);
    expect(doc.outcome).toBe('tables-copied');
    const counts = await rowCounts(target);
    expect(counts['allocations']).toBeGreaterThan(0);
    // No "incomplete" consumers invented for consumers still to come, no schema upgrade.
    expect(counts['consumers']).toBe(0);
    expect(await withOpen(target, (d) => readSchemaRevision(d))).toBe(INITIAL_REVISION);
    const odm = await runCli(['db', 'online-data-migrations', '--placement-url', target.url]);
    expect(odm.code, odm.stderr).toBe(ExitCode.UNFINISHED_MIGRATION);

    const full = await runCli([
      ...migrateArgs(source, target, '--apply', '--revision', 'stein'),
      '--json',
    ]);
    expect(full.code, full.stdout + full.stderr).toBe(0);
    expect(parseJson<{ outcome: string }>(full).outcome).toBe('migrated');
    await expectIdentical(source, target);
    const again = await runCli(migrateArgs(source, target, '--apply', '--revision', 'stein'));
    expect(again.code, again.stdout).toBe(ExitCode.ALREADY_MIGRATED);
  });
});

describeEach(engines)('what the plan refuses before writing (%s)', (engine) => {
  let source: TestDatabase | undefined;
  const cloud = async () => (source ??= await queensCloud(engine, 'plan_src'));

  it('an unknown --revision: exit 1, nothing written', async () => {
    const target = await fresh(engine, 'plan_rev');
    const r = await runCli(migrateArgs(await cloud(), target, '--apply', '--revision', 'foo'));
    expect(r.code, r.stderr).toBe(ExitCode.USAGE);
    expect(r.stderr).toMatch(/"foo" is neither a placement revision nor a placement release/);
    expect(await rowCounts(target)).toEqual({});
  });

  it('a target newer than --revision, or stamped with an unknown revision: exit 12, nothing written', async () => {
    const src = await cloud();
    const target = await fresh(engine, 'plan_newer');
    expect((await runCli(['db', 'sync', '--placement-url', target.url])).code).toBe(0);
    const before = await rowCounts(target);
    const older = await runCli(migrateArgs(src, target, '--apply', '--revision', 'stein'));
    expect(older.code, older.stderr).toBe(ExitCode.SCHEMA_STATE);
    expect(older.stderr).toMatch(/no downgrades/);
    expect(await rowCounts(target)).toEqual(before);

    await withOpen(target, (d) =>
      d.knex('alembic_version').update({ version_num: 'abcdef123456' }),
    );
    const unknown = await runCli(migrateArgs(src, target, '--apply'));
    expect(unknown.code, unknown.stderr).toBe(ExitCode.SCHEMA_STATE);
    expect(unknown.stderr).toMatch(/abcdef123456/);
    expect(await rowCounts(target)).toEqual(before);
  });

  it("a target holding tables that are not placement's: exit 21 unless --allow-other-tables", async () => {
    const src = await cloud();
    const target = await fresh(engine, 'plan_foreign');
    await withOpen(target, (d) =>
      d.knex.schema.createTable('billing_invoices', (t) => t.integer('id').primary()),
    );
    const refused = await runCli(migrateArgs(src, target, '--apply'));
    expect(refused.code, refused.stdout).toBe(ExitCode.TARGET_HAS_OTHER_DATA);
    expect(refused.stdout).toMatch(/billing_invoices/);
    expect(Object.keys(await rowCounts(target))).toEqual(['billing_invoices']);
    const allowed = await runCli(
      migrateArgs(src, target, '--apply', '--allow-other-tables', '--revision', 'stein'),
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    await expectIdentical(src, target);
  });
});
