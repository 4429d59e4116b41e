/**
 * Fault injection: migrate killed with SIGKILL at 20 seeded moments spread
 * over every phase (plan, copy, deferred indexes, verify, online data
 * migrations, schema upgrade) on each engine, then run again, half of the
 * time with another --parallel. Every kill must leave a target that the plan
 * calls interrupted (24; or untouched, 0, before the first write), that the
 * rerun finishes (0) and that is then "already migrated" (3), equal row by
 * row and schema by schema to an uninterrupted run's.
 *
 * A moment is a progress line of the run, never a delay. Where a phase is
 * too short to be hit by a signal on a small cloud, the test holds a lock
 * that the phase needs (taken earlier, at a line of its own), so the run
 * waits inside the phase until it is killed; the marker's recorded phase
 * then proves where the kill landed.
 */
import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { readRun, type RunPhase } from '../../src/copy/target.js';
import type { Database } from '../../src/db/connect.js';
import type { Engine } from '../../src/db/url.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { Prng } from '../../src/fixtures/prng.js';
import { HEAD, INITIAL_REVISION } from '../../src/migrations/index.js';
import { PLACEMENT_TABLES, readSchemaRevision } from '../../src/schema/migrator.js';
import { migrateArgs, parseJson, runCli, runWatching } from '../helpers/cli.js';
import { freshDatabases, testEngines, withOpen, type TestDatabase } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';

const fresh = freshDatabases();

type Phase = 'plan' | 'copy' | 'indexes' | 'verify' | 'online migrations' | 'schema';

/** A way for the test to make the run wait inside a phase, released after the kill. */
type Hold = (run: { source: TestDatabase; target: TestDatabase }) => Promise<() => Promise<void>>;

interface Moment {
  phase: Phase;
  /** Kill when a line satisfies this. */
  kill: (line: string) => boolean;
  /** Take `hold` when a line satisfies this (before the kill's line). */
  holdAt?: (line: string) => boolean;
  hold?: Hold;
  /** The phase the marker must record after the kill (the proof it landed there). */
  recorded?: RunPhase;
  /** More proof, read from the killed run's target: false when the kill landed elsewhere. */
  landed?: (d: Database) => Promise<boolean>;
}

/** The phases of the 20 moments, in order: every phase, several times. */
function phasesFor(engine: Engine): Phase[] {
  // SQLite builds its few deferred indexes in a few milliseconds and cannot be
  // held there without holding the copy: its share goes to the copy.
  const early: Phase[] =
    engine === 'sqlite'
      ? ['plan', 'plan', 'plan', 'copy', 'copy', 'copy', 'copy', 'copy', 'copy', 'copy']
      : ['plan', 'plan', 'plan', 'copy', 'copy', 'copy', 'copy', 'indexes', 'indexes', 'indexes'];
  // SQLite's schema upgrade is one transaction: a kill inside it is a kill
  // before it, at the end of the online data migrations, which it shares.
  const finish: Phase[] =
    engine === 'sqlite'
      ? Array<Phase>(7).fill('online migrations')
      : [
          'online migrations',
          'online migrations',
          'online migrations',
          'schema',
          'schema',
          'schema',
          'schema',
        ];
  return [...early, 'verify', 'verify', 'verify', ...finish];
}

async function session(target: TestDatabase, statements: string[]): Promise<() => Promise<void>> {
  const d = await target.open();
  for (const sql of statements) await d.knex.raw(sql);
  return async () => {
    if (target.engine === 'mysql') await d.knex.raw('UNLOCK TABLES');
    await d.knex.raw('COMMIT');
    await d.close();
  };
}

/**
 * SQLite: the whole file, exclusively. Taken once the connection in use
 * ends its statement or transaction; the run's next statement on that file
 * waits. On the source, that is the live digest right after the snapshot
 * ends (verification is over, its result not yet recorded).
 */
const exclusive =
  (side: 'source' | 'target'): Hold =>
  (run) =>
    session(run[side], ['BEGIN EXCLUSIVE']);

/**
 * Waits until the killed run's sessions are gone from the server: a
 * statement that was waiting on the test's lock runs to its end once the
 * lock is released (the server notices the client is gone only then), and
 * the rerun must not race it. Polls the server's session list, bounded.
 */
async function waitForOtherSessions(target: TestDatabase): Promise<void> {
  if (target.engine === 'sqlite') return;
  const d = await target.open();
  try {
    const sql =
      target.engine === 'mysql'
        ? 'SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()'
        : 'SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()';
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [row] = d.dialect.rows<{ n: number | string }>(await d.knex.raw(sql, [target.name]));
      if (Number(row?.n ?? 0) === 0) return;
      if (Date.now() > deadline)
        throw new Error(`the killed run's sessions on ${target.name} stayed`);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    await d.close();
  }
}

/** Lets `table` be read but not written or altered: the phase that writes it waits. */
const readOnly =
  (table: string): Hold =>
  ({ target }) =>
    session(
      target,
      target.engine === 'mysql'
        ? [`LOCK TABLES ${table} READ`]
        : ['BEGIN', `LOCK TABLE ${table} IN SHARE MODE`],
    );

/**
 * Lets the copy go on writing allocations, but not build an index on it:
 * MySQL's CREATE INDEX waits for the metadata lock an open transaction holds
 * once it has read the table; PostgreSQL's SHARE lock conflicts with ROW EXCLUSIVE.
 */
const noIndexBuild: Hold = ({ target }) =>
  session(
    target,
    target.engine === 'mysql'
      ? ['START TRANSACTION', 'SELECT 1 FROM allocations LIMIT 1']
      : ['BEGIN', 'LOCK TABLE allocations IN ROW EXCLUSIVE MODE'],
  );

const starts = (prefix: string) => (line: string) => line.startsWith(prefix);

/** The 20 moments for an engine, the copy's drawn from `prng`. */
function moments(engine: Engine, prng: Prng, copyLines: string[]): Moment[] {
  const server = engine !== 'sqlite';
  const revision = (d: Database) => readSchemaRevision(d);
  const make: Record<Phase, () => Moment> = {
    plan: () => ({ phase: 'plan', kill: starts('Reading ') }),
    copy: () => {
      const line = copyLines[prng.int(0, copyLines.length - 1)]!;
      return { phase: 'copy', kill: (l) => l === line, recorded: 'copy' };
    },
    indexes: () => ({
      phase: 'indexes',
      holdAt: starts('copy allocations'),
      hold: noIndexBuild,
      kill: starts('Building the index(es) of allocations'),
      recorded: 'copy',
      // None of allocations' deferred indexes exists yet.
      landed: async (d) =>
        ((await d.dialect.introspect(d.knex)).tables['allocations']?.indexes ?? []).length === 0,
    }),
    // The marker is written before the copy and next when verification passed:
    // held from the copy on, the run cannot leave verification. (SQLite's
    // verification reads only the target: the source's checksums came with
    // the copy, and the live digest has its own connection.)
    verify: () => ({
      phase: 'verify',
      ...(server
        ? { holdAt: starts('copy allocations'), hold: readOnly('placement_upgrade_migration') }
        : { holdAt: starts('Verifying'), hold: exclusive('target') }),
      kill: starts('Verifying'),
      recorded: 'copy',
    }),
    // SQLite has one lock for the whole file: holding the finish from the start
    // would hold the marker's own update first, so there the file is locked at
    // the phase's announcing line and the run waits at its next statement.
    'online migrations': () => ({
      phase: 'online migrations',
      holdAt: server ? starts('Verifying') : starts('Running the online data migrations'),
      hold: server ? readOnly('consumers') : exclusive('target'),
      kill: starts('Running the online data migrations'),
      recorded: 'finish',
      landed: async (d) => (await revision(d)) === INITIAL_REVISION,
    }),
    schema: () => ({
      phase: 'schema',
      // The last revision drops inventories' indexes; the online migrations never write it.
      holdAt: starts('Verifying'),
      hold: readOnly('inventories'),
      kill: starts('Upgrading the schema'),
      recorded: 'finish',
      landed: async (d) => (await revision(d)) !== HEAD,
    }),
  };
  return phasesFor(engine).map((phase) => make[phase]());
}

/**
 * Every placement table as data to compare two migrated targets: rows the
 * online data migrations created (ids past the source's, timestamps of the
 * moment) are compared by their natural keys, and providers' updated_at
 * (stamped by set_root_provider_ids) is left out.
 */
async function placementState(
  d: Database,
  sourceMax: Record<string, number>,
): Promise<Record<string, string[]>> {
  const knex: Knex = d.knex;
  const tables = (await d.dialect.listTables(knex)).filter((t) => PLACEMENT_TABLES.includes(t));
  const external = async (table: string) =>
    new Map(
      ((await knex(table).select('id', 'external_id')) as Record<string, unknown>[]).map((r) => [
        Number(r['id']),
        String(r['external_id']),
      ]),
    );
  const projects = await external('projects');
  const users = await external('users');
  const out: Record<string, string[]> = {};
  for (const table of tables.sort()) {
    const rows = (await knex(table).select('*')) as Record<string, unknown>[];
    out[table] = rows
      .map((row) => {
        const r: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(row)) r[k] = v instanceof Date ? v.toISOString() : v;
        if (table === 'resource_providers') delete r['updated_at'];
        const created = 'id' in r && Number(r['id']) > (sourceMax[table] ?? 0);
        if (created && ['consumers', 'projects', 'users'].includes(table)) {
          delete r['id'];
          delete r['created_at'];
          delete r['updated_at'];
        }
        if (table === 'consumers') {
          r['project_id'] = projects.get(Number(r['project_id']));
          r['user_id'] = users.get(Number(r['user_id']));
        }
        return JSON.stringify(r);
      })
      .sort();
  }
  return out;
}

const schemaAndState = (target: TestDatabase, sourceMax: Record<string, number>) =>
  withOpen(target, async (d) => ({
    schema: await d.dialect.introspect(d.knex),
    state: await placementState(d, sourceMax),
  }));

const runArgs = (source: TestDatabase, target: TestDatabase, parallel: number) =>
  migrateArgs(
    source,
    target,
    '--apply',
    '--revision',
    'head',
    '--batch-size',
    '10',
    '--parallel',
    String(parallel),
    // Allocations and consumers of this small cloud load in bulk: key ranges, deferred indexes.
    '--bulk-min-rows',
    '300',
  );

describeEach(testEngines())('migrate killed at 20 moments (%s)', (engine) => {
  let setup:
    | Promise<{
        source: TestDatabase;
        sourceMax: Record<string, number>;
        reference: Awaited<ReturnType<typeof schemaAndState>>;
        moments: Moment[];
      }>
    | undefined;
  const prepare = () =>
    (setup ??= (async () => {
      const source = await novaApiSource(fresh, engine, 'kill_src', {
        release: 'queens',
        // SQLite's online data migrations must outlast the test taking its lock.
        providers: engine === 'sqlite' ? 60 : 20,
        consumers: engine === 'sqlite' ? 2400 : 900,
        seed: 41,
      });
      const sourceMax: Record<string, number> = {};
      const s = await source.open();
      try {
        for (const t of ['consumers', 'projects', 'users']) {
          const row = (await s.knex(t).max({ m: 'id' }).first()) as { m: unknown } | undefined;
          sourceMax[t] = Number(row?.m ?? 0);
        }
      } finally {
        await s.close();
      }
      const target = await fresh(engine, 'kill_ref');
      const lines: string[] = [];
      const done = await runWatching(
        runArgs(source, target, 3),
        () => false,
        () => undefined,
        (l) => lines.push(l),
      );
      expect(done.code, lines.join('\n')).toBe(0);
      // The line that starts each table's copy: the copy phase is under way at each.
      const copyLines = lines.filter((l) => l.startsWith('copy '));
      expect(copyLines.length, lines.join('\n')).toBeGreaterThan(5);
      const prng = new Prng(engine === 'mysql' ? 101 : engine === 'postgresql' ? 202 : 303);
      return {
        source,
        sourceMax,
        reference: await schemaAndState(target, sourceMax),
        moments: moments(engine, prng, copyLines),
      };
    })());

  it.each(phasesFor(engine).map((phase, i) => [i, phase] as const))(
    'moment %i (%s): the rerun finishes the target, equal to an uninterrupted run',
    async (i) => {
      const { source, sourceMax, reference, moments } = await prepare();
      const moment = moments[i]!;
      const target = await fresh(engine, 'kill_dst');
      // Half of the reruns change the number of writers (SQLite always writes with one).
      const first = i % 2 === 0 ? 3 : 1;
      const again = i % 4 < 2 ? first : 4 - first;
      let release: (() => Promise<void>) | undefined;
      let holding: Promise<void> | undefined;
      const killed = await runWatching(
        runArgs(source, target, first),
        (line) => moment.holdAt?.(line) ?? false,
        async () => {
          holding = moment.hold!({ source, target }).then((r) => void (release = r));
          await holding;
        },
        (line, child) => {
          if (!moment.kill(line)) return;
          // The kill waits for the hold, so the run cannot have passed the phase.
          // A hold taken at this same line starts in a microtask queued before this one.
          queueMicrotask(
            () => void (holding ?? Promise.resolve()).then(() => child.kill('SIGKILL')),
          );
        },
      );
      const log = `moment ${i} (${moment.phase}):\n${killed.lines.join('\n')}`;
      expect(killed.actError, log).toBeNull();
      // Killed, not ended by itself: a kill that came after the run finished tests nothing.
      expect(killed.signal, log).toBe('SIGKILL');
      // On a server, read while the hold still stands: a statement of the
      // killed run that waits on it runs once it is released. A SQLite run
      // dies with its process, and the hold may lock the file being read.
      if (engine === 'sqlite') await release?.();
      if (moment.recorded) {
        const run = await withOpen(target, (d) => readRun(d));
        expect(run?.phase, `the kill did not land in the ${moment.phase} phase\n${log}`).toBe(
          moment.recorded,
        );
      }
      if (moment.landed) {
        const landed = await withOpen(target, moment.landed);
        expect(landed, `the kill landed after the ${moment.phase}\n${log}`).toBe(true);
      }
      if (engine !== 'sqlite') await release?.();
      await waitForOtherSessions(target);

      const plan = await runCli([...migrateArgs(source, target), '--json']);
      const planned = parseJson<{ outcome: string }>(plan).outcome;
      if (moment.phase === 'plan') expect(['interrupted', 'planned'], log).toContain(planned);
      else expect(planned, log).toBe('interrupted');
      expect(plan.code, log).toBe(planned === 'interrupted' ? ExitCode.INTERRUPTED_RUN : 0);

      const resumed = await runCli([...runArgs(source, target, again), '--json']);
      expect(resumed.code, `${log}\n${resumed.stdout}${resumed.stderr}`).toBe(0);
      expect(parseJson<{ outcome: string }>(resumed).outcome).toBe('migrated');
      const done = await runCli(runArgs(source, target, again));
      expect(done.code, done.stdout).toBe(ExitCode.ALREADY_MIGRATED);

      expect(await schemaAndState(target, sourceMax)).toEqual(reference);
    },
  );
});
