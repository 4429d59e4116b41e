/**
 * MySQL commits every DDL statement on its own, so a db sync stopped inside
 * a revision (killed, connection lost, Galera node restarted) leaves part of
 * the revision behind while alembic_version still names the one before. The
 * next db sync must finish the revision, not fail on "table exists", and end
 * at the schema placement itself creates. The half-done states are built
 * from the statements a run would have executed, taken (SHOW CREATE TABLE)
 * from a database synced to the revision in question.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { HEAD } from '../../src/migrations/index.js';
import { INITIAL_TABLES } from '../../src/migrations/b4ed3a175331-initial.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { freshDatabases, testEngines, type TestDatabase } from '../helpers/databases.js';
import { loadReference } from '../helpers/reference-schema.js';

const engines = testEngines();

describe.runIf(engines.includes('mysql'))(
  'db sync after a run stopped inside a revision (MySQL)',
  () => {
    const fresh = freshDatabases();
    const reference = loadReference('mysql');
    /** One database per revision, synced to it: where the CREATE TABLE statements come from. */
    const at = new Map<string, TestDatabase>();

    beforeAll(async () => {
      for (const revision of ['b4ed3a175331', '422ece571366']) {
        const d = await fresh('mysql', `at_${revision}`);
        const r = await runCli(['db', 'sync', '--placement-url', d.url, '--revision', revision]);
        expect(r.code, r.stderr).toBe(0);
        at.set(revision, d);
      }
    });

    const showCreate = async (revision: string, table: string): Promise<string> => {
      const db = await at.get(revision)!.open();
      try {
        const [row] = db.dialect.rows<Record<string, string>>(
          await db.knex.raw(`SHOW CREATE TABLE \`${table}\``),
        );
        return row!['Create Table']!;
      } finally {
        await db.close();
      }
    };

    /** A fresh database at `revision`, then `stop` run on it: the part of the next revision that got done. */
    const stoppedAfter = async (
      prefix: string,
      revision: string | null,
      stop: (db: Database) => Promise<void>,
    ): Promise<TestDatabase> => {
      const d = await fresh('mysql', prefix);
      if (revision) {
        const r = await runCli(['db', 'sync', '--placement-url', d.url, '--revision', revision]);
        expect(r.code, r.stderr).toBe(0);
      }
      const db = await d.open();
      try {
        await stop(db);
      } finally {
        await db.close();
      }
      return d;
    };

    const syncToHead = async (d: TestDatabase) => {
      const r = await runCli(['db', 'sync', '--placement-url', d.url, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const db = await d.open();
      try {
        expect(await db.dialect.introspect(db.knex)).toEqual(reference[HEAD]);
      } finally {
        await db.close();
      }
      return parseJson<{ from: string | null; applied: { revision: string }[] }>(r);
    };

    afterAll(() => at.clear());

    it('finishes the initial revision when some of its tables exist and no revision is stamped', async () => {
      const created = INITIAL_TABLES.slice(0, 5).map((t) => t.name);
      const statements = await Promise.all(created.map((t) => showCreate('b4ed3a175331', t)));
      const d = await stoppedAfter('initial', null, async (db) => {
        await db.knex.raw(
          'CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))',
        );
        for (const sql of statements) await db.knex.raw(sql);
      });
      const result = await syncToHead(d);
      expect(result.from).toBeNull();
      expect(result.applied[0]?.revision).toBe('b4ed3a175331');
    });

    it('finishes consumer types when the table exists but consumers has no column yet', async () => {
      const sql = await showCreate('422ece571366', 'consumer_types');
      const d = await stoppedAfter('ctypes_table', 'b5c396305c25', async (db) => {
        await db.knex.raw(sql);
      });
      expect((await syncToHead(d)).from).toBe('b5c396305c25');
    });

    it('adds the foreign key when the run stopped between ADD COLUMN and ADD CONSTRAINT', async () => {
      const sql = await showCreate('422ece571366', 'consumer_types');
      const d = await stoppedAfter('ctypes_column', 'b5c396305c25', async (db) => {
        await db.knex.raw(sql);
        await db.knex.raw('ALTER TABLE consumers ADD COLUMN consumer_type_id INTEGER');
      });
      await syncToHead(d);
    });

    it('drops the rest of the redundant indexes when two are gone already', async () => {
      const d = await stoppedAfter('indexes', '422ece571366', async (db) => {
        await db.knex.raw('DROP INDEX inventories_resource_provider_id_idx ON inventories');
        await db.knex.raw('DROP INDEX ix_placement_aggregates_uuid ON placement_aggregates');
      });
      expect((await syncToHead(d)).from).toBe('422ece571366');
    });

    it('refuses a table that the revision would create but that has other columns, changing nothing', async () => {
      const d = await stoppedAfter('foreign', 'b5c396305c25', async (db) => {
        await db.knex.raw('CREATE TABLE consumer_types (id INTEGER PRIMARY KEY, label TEXT)');
      });
      const r = await runCli(['db', 'sync', '--placement-url', d.url, '--json']);
      expect(r.code).toBe(ExitCode.SCHEMA_STATE);
      const { error } = parseJson<{ error: { message: string; hint: string } }>(r);
      expect(error.message).toMatch(
        /creates the table consumer_types, which already exists with other columns \(id, label;/,
      );
      expect(error.hint).toMatch(/drop it and run db sync again/);
      const db = await d.open();
      try {
        expect(await db.knex('alembic_version').pluck('version_num')).toEqual(['b5c396305c25']);
        const snapshot = await db.dialect.introspect(db.knex);
        expect(snapshot.tables['consumer_types']?.columns.map((c) => c.name)).toEqual([
          'id',
          'label',
        ]);
        expect(snapshot.tables['consumers']?.columns.map((c) => c.name)).not.toContain(
          'consumer_type_id',
        );
      } finally {
        await db.close();
      }
    });
  },
);
