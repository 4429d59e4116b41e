/**
 * The states a real placement database can be found in: blocked by old data,
 * tables without a revision, an unknown revision, two runs at once.
 */
import { afterAll, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { HEAD } from '../../src/migrations/index.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';
import { loadReference } from '../helpers/reference-schema.js';

describeEach(testEngines())('schema states on %s', (engine) => {
  const databases: TestDatabase[] = [];
  const fresh = async (prefix: string) => {
    const d = await createTestDatabase(engine, prefix);
    databases.push(d);
    return d;
  };
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.drop()));
  });

  it('refuses to pass the Train blockers until the online data migrations ran', async () => {
    const target = await fresh('blockers');
    expect(
      (await runCli(['db', 'sync', '--placement-url', target.url, '--revision', 'stein'])).code,
    ).toBe(0);
    const db = await target.open();
    try {
      await db.knex('resource_providers').insert([
        {
          id: 1,
          uuid: '00000000-0000-0000-0000-00000000000a',
          name: 'cn1',
          generation: 1,
          root_provider_id: null,
        },
        {
          id: 2,
          uuid: '00000000-0000-0000-0000-00000000000b',
          name: 'cn2',
          generation: 1,
          root_provider_id: 2,
        },
      ]);
      await db.knex('allocations').insert({
        resource_provider_id: 2,
        consumer_id: '11111111-1111-1111-1111-111111111111',
        resource_class_id: 0,
        used: 1,
      });

      let r = await runCli(['db', 'sync', '--placement-url', target.url, '--json']);
      expect(r.code).toBe(ExitCode.DATA_BLOCKS_UPGRADE);
      expect(
        parseJson<{ error: { message: string; hint: string; details: Record<string, unknown> } }>(r)
          .error,
      ).toMatchObject({
        message: expect.stringMatching(/1 resource provider has no root_provider_id/),
        hint: expect.stringMatching(/online-data-migrations/),
        details: { revision: '611cd6dffd7b', rows: 1, migration: 'set_root_provider_ids' },
      });
      // Nothing past the blocker was applied, nothing before it lost.
      expect((await runCli(['db', 'version', '--placement-url', target.url])).stdout.trim()).toBe(
        'b4ed3a175331',
      );

      await db
        .knex('resource_providers')
        .whereNull('root_provider_id')
        .update({ root_provider_id: db.knex.ref('id') });
      r = await runCli(['db', 'sync', '--placement-url', target.url]);
      expect(r.code).toBe(ExitCode.DATA_BLOCKS_UPGRADE);
      expect(r.stderr).toMatch(/1 allocation has no consumers row/);
      // PostgreSQL and SQLite run the whole upgrade in one transaction (as alembic
      // does on PostgreSQL), so the blocked run keeps nothing; MySQL keeps the
      // revisions that passed, because its DDL commits as it goes.
      const kept = db.dialect.supportsTransactionalDdl ? 'b4ed3a175331' : '611cd6dffd7b';
      expect((await runCli(['db', 'version', '--placement-url', target.url])).stdout.trim()).toBe(
        kept,
      );

      await db.knex('projects').insert({ id: 1, external_id: 'p' });
      await db.knex('users').insert({ id: 1, external_id: 'u' });
      await db
        .knex('consumers')
        .insert({ uuid: '11111111-1111-1111-1111-111111111111', project_id: 1, user_id: 1 });
      r = await runCli(['db', 'sync', '--placement-url', target.url]);
      expect(r.code, r.stderr).toBe(0);
      expect((await runCli(['db', 'version', '--placement-url', target.url])).stdout.trim()).toBe(
        HEAD,
      );
      expect(await db.knex('allocations').select('consumer_id')).toEqual([
        { consumer_id: '11111111-1111-1111-1111-111111111111' },
      ]);
    } finally {
      await db.close();
    }
  });

  it('refuses placement tables without a revision, and says how to stamp them', async () => {
    const target = await fresh('unversioned');
    expect(
      (await runCli(['db', 'sync', '--placement-url', target.url, '--revision', 'stein'])).code,
    ).toBe(0);
    const db = await target.open();
    await db.knex.schema.dropTable('alembic_version');
    await db.close();
    const r = await runCli(['db', 'sync', '--placement-url', target.url]);
    expect(r.code).toBe(ExitCode.SCHEMA_STATE);
    expect(r.stderr).toMatch(/placement tables .* but no revision/);
    expect(r.stderr).toMatch(/db stamp b4ed3a175331/);
    const v = await runCli(['db', 'version', '--placement-url', target.url]);
    expect(v.stdout.trim()).toBe('None');

    const stamp = await runCli([
      'db',
      'stamp',
      'b4ed3a175331',
      '--placement-url',
      target.url,
      '--json',
    ]);
    expect(stamp.code, stamp.stderr).toBe(0);
    expect(parseJson(stamp)).toMatchObject({
      previous: null,
      revision: 'b4ed3a175331',
      release: 'stein',
    });
    const up = await runCli(['db', 'sync', '--placement-url', target.url]);
    expect(up.code, up.stderr).toBe(0);
  });

  it('refuses a revision it does not know, and leaves it alone', async () => {
    const target = await fresh('unknown_rev');
    expect((await runCli(['db', 'sync', '--placement-url', target.url])).code).toBe(0);
    const db = await target.open();
    await db.knex('alembic_version').update({ version_num: 'ffffffffffff' });
    await db.close();
    for (const args of [
      ['db', 'sync'],
      ['db', 'version'],
    ]) {
      const r = await runCli([...args, '--placement-url', target.url]);
      expect(r.code).toBe(ExitCode.SCHEMA_STATE);
      expect(r.stderr).toMatch(/stamped with revision "ffffffffffff"/);
    }
    const check = await target.open();
    expect(await check.knex('alembic_version').select('version_num')).toEqual([
      { version_num: 'ffffffffffff' },
    ]);
    await check.close();
  });

  it('two db sync runs at once: one does the work, the other finds it done', async () => {
    const target = await fresh('concurrent');
    const runs = await Promise.all([
      runCli(['db', 'sync', '--placement-url', target.url, '--json']),
      runCli(['db', 'sync', '--placement-url', target.url, '--json']),
      runCli(['db', 'sync', '--placement-url', target.url, '--json']),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const results = runs.map((r) => parseJson<{ upToDate: boolean; applied: unknown[] }>(r));
    expect(results.filter((r) => !r.upToDate)).toHaveLength(1);
    expect(results.filter((r) => r.upToDate)).toHaveLength(2);
    const db = await target.open();
    try {
      expect(await db.dialect.introspect(db.knex)).toEqual(loadReference(engine)[HEAD]);
    } finally {
      await db.close();
    }
  });
});
