import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { REVISIONS, HEAD } from '../../src/migrations/index.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';
import { loadReference } from '../helpers/reference-schema.js';

describeEach(testEngines())('db sync on %s', (engine) => {
  const reference = loadReference(engine);
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.drop()));
  });

  it.each(REVISIONS.map((r) => r.id))("creates placement's own schema at %s", async (revision) => {
    const target = await createTestDatabase(engine, `sync_${revision}`);
    databases.push(target);
    const result = await runCli([
      'db',
      'sync',
      '--placement-url',
      target.url,
      '--revision',
      revision,
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result)).toMatchObject({ from: null, to: revision, upToDate: false });
    const db = await target.open();
    try {
      const snapshot = await db.dialect.introspect(db.knex);
      expect(snapshot).toEqual(reference[revision]);
    } finally {
      await db.close();
    }
  });

  describe('step by step and re-run', () => {
    let target: TestDatabase;
    beforeAll(async () => {
      target = await createTestDatabase(engine, 'steps');
      databases.push(target);
    });

    it('upgrades one release at a time to the same schema as a direct sync', async () => {
      for (const release of ['stein', 'train', 'zed', '2023.2']) {
        const r = await runCli([
          'db',
          'sync',
          '--placement-url',
          target.url,
          '--revision',
          release,
        ]);
        expect(r.code, r.stderr).toBe(0);
      }
      const db = await target.open();
      try {
        expect(await db.dialect.introspect(db.knex)).toEqual(reference[HEAD]);
      } finally {
        await db.close();
      }
    });

    it('is a no-op at the target', async () => {
      const r = await runCli(['db', 'sync', '--placement-url', target.url, '--json']);
      expect(r.code).toBe(0);
      expect(parseJson(r)).toMatchObject({ from: HEAD, to: HEAD, upToDate: true, applied: [] });
    });

    it('reports the version and the releases that know it', async () => {
      const r = await runCli(['db', 'version', '--placement-url', target.url, '--json']);
      expect(r.code).toBe(0);
      expect(parseJson(r)).toMatchObject({ revision: HEAD, release: '2023.2', isHead: true });
      const plain = await runCli(['db', 'version', '--placement-url', target.url]);
      expect(plain.stdout.trim()).toBe(HEAD);
    });

    it('refuses to downgrade', async () => {
      const r = await runCli(['db', 'sync', '--placement-url', target.url, '--revision', 'zed']);
      expect(r.code).toBe(12);
      expect(r.stderr).toMatch(/no downgrades/);
    });
  });
});

describe.runIf(testEngines().includes('mysql'))('the Xena revision on MySQL/MariaDB', () => {
  it('adds consumers.consumer_type_id and its foreign key without copying the table', async () => {
    const target = await createTestDatabase('mysql', 'sync_inplace');
    try {
      const sync = (...more: string[]) =>
        runCli(['db', 'sync', '--placement-url', target.url, ...more]);
      expect((await sync('--revision', 'b5c396305c25')).code).toBe(0);
      const db = await target.open();
      try {
        const rows = Array.from({ length: 300 }, (_, i) => ({
          uuid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
          project_id: 1,
          user_id: 1,
        }));
        await db.knex('consumers').insert(rows);
        // A table InnoDB copies to alter gets a table id of its own.
        const tableId = async () => {
          const [row] = db.dialect.rows<{ id: number | string }>(
            await db.knex.raw(
              'SELECT table_id AS id FROM information_schema.innodb_sys_tables WHERE name = CONCAT(DATABASE(), ?)',
              ['/consumers'],
            ),
          );
          return Number(row?.id);
        };
        const before = await tableId();
        expect(before).toBeGreaterThan(0);
        const r = await sync();
        expect(r.code, r.stderr).toBe(0);
        expect(await tableId()).toBe(before);
        const snapshot = await db.dialect.introspect(db.knex);
        expect(snapshot).toEqual(loadReference('mysql')[HEAD]);
        // The key is there and enforced.
        await expect(
          db.knex('consumers').insert({
            uuid: 'ffffffff-0000-0000-0000-000000000000',
            project_id: 1,
            user_id: 1,
            consumer_type_id: 999,
          }),
        ).rejects.toThrow(/foreign key constraint/i);
      } finally {
        await db.close();
      }
    } finally {
      await target.drop();
    }
  });
});
