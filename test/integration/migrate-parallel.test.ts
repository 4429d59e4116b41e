/**
 * migrate with several writers: large tables are copied (and verified) in
 * key ranges at once. The slices must add up to exactly the source, and a run
 * that failed part-way through some slices must resume each one where it
 * stopped; the indexes built after the copy must end as placement's own. The
 * bulk threshold is lowered so that a small cloud is loaded in bulk.
 */
import { expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { migrate, type MigrateOptions } from '../../src/copy/migrate.js';
import { openDatabase } from '../../src/db/connect.js';
import { parseConnectionUrl, type Engine } from '../../src/db/url.js';
import type { SchemaSnapshot } from '../../src/schema/model.js';
import type { ProgressEvent } from '../../src/progress/events.js';
import { freshDatabases, testEngines, type TestDatabase } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';
import { loadReference } from '../helpers/reference-schema.js';
import { expectIdentical } from '../helpers/row-compare.js';

const fresh = freshDatabases();
const servers = testEngines().filter((e) => e !== 'sqlite');
// Same engine and across engines; SQLite targets always copy with one writer.
const pairs: [Engine, Engine][] =
  servers.length === 2
    ? [
        ['mysql', 'postgresql'],
        ['postgresql', 'mysql'],
        ['sqlite', 'mysql'],
      ]
    : servers.map((e) => [e, e]);

const PARALLEL = 3;

function options(onProgress?: (e: ProgressEvent) => void): MigrateOptions {
  return {
    apply: true,
    batchSize: 40,
    skipOrphans: false,
    restart: false,
    revision: 'b4ed3a175331',
    maxDifferences: 5,
    lockTimeoutSeconds: 10,
    parallel: PARALLEL,
    bulkMinRows: 100,
    onProgress,
  };
}

/** The target's schema, as introspected. */
async function schemaOf(target: TestDatabase): Promise<SchemaSnapshot> {
  const db = await target.open();
  try {
    return await db.dialect.introspect(db.knex);
  } finally {
    await db.close();
  }
}

/** Runs migrate() as the command does: one control connection each; the core opens the writers' pool. */
async function run(
  source: TestDatabase,
  target: TestDatabase,
  opts: MigrateOptions,
): Promise<Awaited<ReturnType<typeof migrate>>> {
  const s = await openDatabase(parseConnectionUrl(source.url, 'test'), { max: 1 });
  const t = await openDatabase(parseConnectionUrl(target.url, 'test'), { max: 1 });
  try {
    return await migrate(s, t, opts);
  } finally {
    await Promise.all([s.close(), t.close()]);
  }
}

describeEach(pairs)('migrate with %s → %s and three writers', (from, to) => {
  let source: TestDatabase | undefined;
  const cloud = async () =>
    (source ??= await novaApiSource(fresh, from, 'par_src', {
      release: 'rocky',
      providers: 25,
      consumers: 900,
      seed: 5,
    }));

  it('copies large tables in key ranges that add up to exactly the source', async () => {
    const src = await cloud();
    const target = await fresh(to, 'par_dst');
    const result = await run(src, target, options());
    expect(result.outcome, result.message).toBe('migrated');
    const allocations = result.copied.find((c) => c.table === 'allocations')!;
    expect(allocations.slices).toHaveLength(PARALLEL);
    expect(allocations.slices.every((s) => s.rows > 0)).toBe(true);
    // Tables with foreign keys are never sliced.
    expect(result.copied.find((c) => c.table === 'resource_providers')!.slices).toHaveLength(1);
    expect(result.verification.every((v) => v.equal)).toBe(true);
    await expectIdentical(src, target);
    // The indexes built after the copy are placement's own, as db sync makes them.
    expect(await schemaOf(target)).toEqual(loadReference(to)['b4ed3a175331']);
  });

  it('resumes every slice where it stopped after a failure part-way through', async () => {
    const src = await cloud();
    const target = await fresh(to, 'par_resume');
    // A writer fails once allocations are about half copied (the others stop too).
    let copied = 0;
    const failing = (e: ProgressEvent) => {
      if (e.type === 'table-progress' && e.phase === 'copy' && e.table === 'allocations') {
        copied = e.done;
        if (e.done >= e.total / 2) throw new Error('simulated crash during the copy');
      }
    };
    await expect(run(src, target, options(failing))).rejects.toThrow(/simulated crash/);
    expect(copied).toBeGreaterThan(0);

    const plan = await run(src, target, { ...options(), apply: false });
    expect(plan.outcome).toBe('interrupted');
    // The bulk load dropped allocations' plain indexes to build them after the copy.
    expect((await schemaOf(target)).tables['allocations']!.indexes).toEqual([]);

    const resumed = await run(src, target, options());
    expect(resumed.outcome, resumed.message).toBe('migrated');
    const allocations = resumed.copied.find((c) => c.table === 'allocations')!;
    expect(allocations.slices.some((s) => s.resumedAfter !== null)).toBe(true);
    expect(resumed.verification.every((v) => v.equal)).toBe(true);
    await expectIdentical(src, target);
    expect(await schemaOf(target)).toEqual(loadReference(to)['b4ed3a175331']);
  });

  it.each([1, 5])(
    'resumed with --parallel %i after a failure with three writers, every range is completed',
    async (resumeWith) => {
      const src = await cloud();
      const target = await fresh(to, 'par_other');
      const failing = (e: ProgressEvent) => {
        if (e.type === 'table-progress' && e.phase === 'copy' && e.table === 'allocations') {
          if (e.done >= e.total / 2) throw new Error('simulated crash during the copy');
        }
      };
      await expect(run(src, target, options(failing))).rejects.toThrow(/simulated crash/);
      // The ranges of the first run, each filled from its own greatest key, whatever the writers now.
      const resumed = await run(src, target, { ...options(), parallel: resumeWith });
      expect(resumed.outcome, resumed.message).toBe('migrated');
      const allocations = resumed.copied.find((c) => c.table === 'allocations')!;
      expect(allocations.slices).toHaveLength(PARALLEL);
      expect(resumed.verification.every((v) => v.equal)).toBe(true);
      await expectIdentical(src, target);
    },
  );
});
