/**
 * migrate's COPY-stream path (PostgreSQL to PostgreSQL): rows travel as
 * COPY text, hashed as they pass, verified by hashing the target's COPY
 * text. Row-by-row equality on old and new releases and on text that COPY
 * must escape, the row path with --no-fast-path, a target that differs by
 * one value caught by the hash, kill -9 in the middle of a key range and
 * resume, and nova writing during the copy.
 */
import { expect, it } from 'vitest';
import type { MigrateResult } from '../../src/copy/migrate.js';
import { copyTable } from '../../src/copy/tables.js';
import { targetStreamChecksum } from '../../src/copy/stream-copy.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { freshDatabases, testEngines, withOpen } from '../helpers/databases.js';
import { describeEach } from '../helpers/each.js';
import {
  ADDED_CONSUMER,
  applyArgs,
  expectNovaWriteCaught,
  expectResumedCopy,
  killInsideCopy,
  rowsIn,
} from '../helpers/migrate-run.js';
import { novaApiSource } from '../helpers/nova-api.js';
import { expectIdentical } from '../helpers/row-compare.js';

const fresh = freshDatabases();

describeEach(testEngines().filter((e) => e === 'postgresql'))(
  'migrate between PostgreSQL servers as COPY streams (%s)',
  (engine) => {
    it.each(['ocata', 'train'] as const)(
      'a %s nova_api: the COPY-stream path, identical rows, text hashes; --no-fast-path the row path',
      async (release) => {
        const source = await novaApiSource(fresh, engine, `cs_${release}_src`, {
          release,
          providers: 40,
          consumers: 900,
          seed: 7,
        });
        // Text COPY must escape (tab, newline, carriage return, backslash) and
        // text beyond ASCII, in a column of its own and in a key's neighbour.
        // (Older releases lack the tables: whichever exist get such rows.)
        const escaped = await withOpen(source, async (db) => {
          const tables = await db.dialect.listTables(db.knex);
          if (tables.includes('traits'))
            await db.knex('traits').insert({ name: 'CUSTOM_TAB\there\\back\nline\rcr_ünï_€' });
          if (tables.includes('projects'))
            await db.knex('projects').insert({ external_id: 'proj\t\\N\nnot-null' });
          return ['traits', 'projects'].filter((t) => tables.includes(t));
        });
        if (release === 'train') expect(escaped).toEqual(['traits', 'projects']);
        const target = await fresh(engine, `cs_${release}_dst`);
        // Key ranges too: allocations are a bulk load cut into four slices.
        const run = await runCli([
          ...applyArgs(source, target, '--bulk-min-rows', '500', '--batch-size', '150'),
          '--json',
        ]);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const result = parseJson<MigrateResult>(run);
        expect(result.outcome).toBe('migrated');
        expect(result.copyPath?.path).toBe('copy-stream');
        const method = Object.fromEntries(result.copied.map((c) => [c.table, c.method]));
        // Providers' forward references are fixed on their way: the row path.
        expect(method['resource_providers']).toBe('rows');
        for (const t of ['allocations', 'inventories', ...escaped])
          expect(method[t], t).toBe('copy-stream');
        const allocations = result.copied.find((c) => c.table === 'allocations')!;
        expect(allocations.slices.length).toBeGreaterThan(1);
        for (const t of ['allocations', ...escaped]) {
          const verified = result.verification.find((v) => v.table === t)!;
          expect(verified.equal, t).toBe(true);
          expect(verified.sourceChecksum, t).toMatch(/^copy-sha1:[0-9a-f]{40}$/);
          expect(verified.targetChecksum, t).toBe(verified.sourceChecksum);
        }
        await expectIdentical(source, target);

        const byRows = await fresh(engine, `cs_${release}_rows`);
        const rowsRun = await runCli([...applyArgs(source, byRows, '--no-fast-path'), '--json']);
        expect(rowsRun.code, rowsRun.stdout + rowsRun.stderr).toBe(0);
        const rowsResult = parseJson<MigrateResult>(rowsRun);
        expect(rowsResult.copyPath?.path).toBe('rows');
        // Through placement-upgrade: unchanged rows loaded as COPY text, hashed as loaded.
        expect(
          rowsResult.copied.every((c) => c.method === 'rows' || c.method === 'copy-text'),
        ).toBe(true);
        expect(rowsResult.copied.find((c) => c.table === 'allocations')?.method).toBe('copy-text');
        expect(rowsResult.verification.every((v) => v.equal)).toBe(true);
        await expectIdentical(byRows, target);
      },
    );

    it('the target hash changes with one value of one row, and with one row more', async () => {
      const source = await novaApiSource(fresh, engine, 'cs_hash_src', {
        release: 'rocky',
        providers: 20,
        consumers: 300,
        seed: 3,
      });
      const target = await fresh(engine, 'cs_hash_dst');
      const run = await runCli([...applyArgs(source, target), '--json']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const copied = parseJson<MigrateResult>(run).copied.find((c) => c.table === 'allocations')!;
      expect(copied.method).toBe('copy-stream');
      await withOpen(target, async (db) => {
        const side = {
          conn: db.knex,
          dialect: db.dialect,
          layout: {
            table: copyTable('allocations'),
            present: true,
            columns: [...copyTable('allocations').columns],
          },
          streamCopy: db.dialect.streamCopy!,
        };
        const hash = async () => (await targetStreamChecksum(side, null)).checksum;
        const before = await hash();
        expect(before).toBe(copied.sourceChecksum);
        const [row] = db.dialect.rows<{ id: number; used: number }>(
          await db.knex.raw('SELECT id, used FROM allocations ORDER BY id LIMIT 1'),
        );
        await db
          .knex('allocations')
          .where({ id: row!.id })
          .update({ used: row!.used + 1 });
        expect(await hash()).not.toBe(before);
        await db.knex('allocations').where({ id: row!.id }).update({ used: row!.used });
        expect(await hash()).toBe(before);
        await db.knex.raw(
          'INSERT INTO allocations (resource_provider_id, consumer_id, resource_class_id, used) SELECT resource_provider_id, consumer_id, resource_class_id, used FROM allocations ORDER BY id LIMIT 1',
        );
        expect(await hash()).not.toBe(before);
      });
    });

    it('killed -9 in the middle of a key range: the rerun resumes after the last chunk and ends identical', async () => {
      const source = await novaApiSource(fresh, engine, 'cs_kill_src', {
        release: 'queens',
        providers: 120,
        consumers: 3000,
        seed: 21,
      });
      const target = await fresh(engine, 'cs_kill_dst');
      const total = await withOpen(source, (db) => rowsIn(db, 'allocations'));
      const args = applyArgs(source, target, '--batch-size', '10', '--parallel', '1');
      const { atKill } = await killInsideCopy(args, target, {
        table: 'allocations',
        atLeast: 50,
        total,
        pathLine: 'Copying as COPY streams',
      });
      const resumed = await runCli([...args, '--json']);
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      const result = parseJson<MigrateResult>(resumed);
      expectResumedCopy(result, {
        table: 'allocations',
        method: 'copy-stream',
        total,
        atKill,
        batch: 10,
      });
      // A resumed range has no whole-range hash: it was compared row by row.
      const verified = result.verification.find((v) => v.table === 'allocations')!;
      expect(verified.equal).toBe(true);
      await expectIdentical(source, target);
    });

    it('nova writing during the copy: verification fails (22) naming the table', async () => {
      const source = await novaApiSource(fresh, engine, 'cs_writer_src', {
        release: 'train',
        providers: 60,
        consumers: 1500,
        seed: 4,
      });
      const target = await fresh(engine, 'cs_writer_dst');
      await expectNovaWriteCaught(
        applyArgs(source, target, '--batch-size', '10', '--parallel', '1'),
        source,
        'Copying as COPY streams',
      );
    });

    it('four writers read on connections of their own inside the snapshot: a row nova adds mid-copy is not copied', async () => {
      const source = await novaApiSource(fresh, engine, 'cs_readers_src', {
        release: 'train',
        providers: 60,
        consumers: 1500,
        seed: 5,
      });
      const target = await fresh(engine, 'cs_readers_dst');
      const atSnapshot = await withOpen(source, (db) => rowsIn(db, 'allocations'));
      let sessions = -1;
      await expectNovaWriteCaught(
        applyArgs(
          source,
          target,
          '--batch-size',
          '10',
          '--parallel',
          '4',
          '--bulk-min-rows',
          '500',
        ),
        source,
        'Copying as COPY streams',
        async (db) => {
          // The copy has begun: the readers are open, and the last key range
          // (which the new row's id falls in) is not finished.
          const [row] = db.dialect.rows<{ n: unknown }>(
            await db.knex.raw(
              'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
            ),
          );
          sessions = Number(row?.n ?? 0);
        },
      );
      // The snapshot connection and four readers.
      expect(sessions).toBeGreaterThanOrEqual(5);
      await withOpen(target, async (t) => {
        expect(await rowsIn(t, 'allocations')).toBe(atSnapshot);
        expect(
          await t.knex('allocations').where({ consumer_id: ADDED_CONSUMER }).first(),
        ).toBeUndefined();
      });
    });
  },
);
