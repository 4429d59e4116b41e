/**
 * migrate's server-side path (MySQL/MariaDB): nova_api and placement on one
 * server, copied by INSERT … SELECT and verified by the server's checksums.
 * Row-by-row equality on old and new releases, the row path with
 * --no-fast-path, kill -9 in the middle of a key range and resume, nova
 * writing during the copy, and the fallback when the target's user may not
 * read nova_api.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import type { MigrateResult } from '../../src/copy/migrate.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { freshDatabases, testEngines, withOpen } from '../helpers/databases.js';
import { describeEach } from '../helpers/each.js';
import {
  applyArgs,
  expectNovaWriteCaught,
  expectResumedCopy,
  killInsideCopy,
  rowsIn,
} from '../helpers/migrate-run.js';
import { novaApiSource } from '../helpers/nova-api.js';
import { expectIdentical } from '../helpers/row-compare.js';
import { ADMIN_URLS } from '../helpers/servers.js';

const fresh = freshDatabases();

describeEach(testEngines().filter((e) => e === 'mysql'))(
  'migrate inside one server (%s)',
  (engine) => {
    it.each(['pike', 'train'] as const)(
      'a %s nova_api: server-side path, identical rows, server checksums; --no-fast-path the row path',
      async (release) => {
        const source = await novaApiSource(fresh, engine, `ss_${release}_src`, {
          release,
          providers: 40,
          consumers: 900,
          seed: 7,
        });
        const target = await fresh(engine, `ss_${release}_dst`);
        // Key ranges too: allocations are a bulk load cut into four slices.
        const run = await runCli([
          ...applyArgs(source, target, '--bulk-min-rows', '500', '--batch-size', '150'),
          '--json',
        ]);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const result = parseJson<MigrateResult>(run);
        expect(result.outcome).toBe('migrated');
        expect(result.copyPath?.path).toBe('server-side');
        expect(result.copyPath?.reason).toMatch(/the same server/);
        const method = Object.fromEntries(result.copied.map((c) => [c.table, c.method]));
        // Providers' forward references are fixed on their way: the row path.
        expect(method['resource_providers']).toBe('rows');
        expect(method['allocations']).toBe('server-side');
        expect(method['inventories']).toBe('server-side');
        const allocations = result.copied.find((c) => c.table === 'allocations')!;
        expect(allocations.slices.length).toBeGreaterThan(1);
        const verified = result.verification.find((v) => v.table === 'allocations')!;
        expect(verified.equal).toBe(true);
        expect(verified.sourceChecksum).toMatch(/^sha1-xor:[0-9a-f]{32}$/);
        expect(verified.targetChecksum).toBe(verified.sourceChecksum);
        await expectIdentical(source, target);

        const byRows = await fresh(engine, `ss_${release}_rows`);
        const rowsRun = await runCli([...applyArgs(source, byRows, '--no-fast-path'), '--json']);
        expect(rowsRun.code, rowsRun.stdout + rowsRun.stderr).toBe(0);
        const rowsResult = parseJson<MigrateResult>(rowsRun);
        expect(rowsResult.copyPath?.path).toBe('rows');
        expect(rowsResult.copyPath?.reason).toMatch(/--no-fast-path/);
        expect(rowsResult.copied.every((c) => c.method === 'rows')).toBe(true);
        await expectIdentical(byRows, target);
      },
    );

    it('killed -9 in the middle of a key range: the rerun resumes after the last batch and ends identical', async () => {
      const source = await novaApiSource(fresh, engine, 'ss_kill_src', {
        release: 'queens',
        providers: 120,
        consumers: 3000,
        seed: 21,
      });
      const target = await fresh(engine, 'ss_kill_dst');
      const total = await withOpen(source, (db) => rowsIn(db, 'allocations'));
      const args = applyArgs(source, target, '--batch-size', '10', '--parallel', '1');
      const { atKill } = await killInsideCopy(args, target, {
        table: 'allocations',
        atLeast: 50,
        total,
        pathLine: 'Copying inside the server',
      });
      const resumed = await runCli([...args, '--json']);
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      const result = parseJson<MigrateResult>(resumed);
      expectResumedCopy(result, {
        table: 'allocations',
        method: 'server-side',
        total,
        atKill,
        batch: 10,
      });
      await expectIdentical(source, target);
    });

    it('nova writing during the copy: verification fails (22) naming the table', async () => {
      const source = await novaApiSource(fresh, engine, 'ss_writer_src', {
        release: 'train',
        providers: 60,
        consumers: 1500,
        seed: 4,
      });
      const target = await fresh(engine, 'ss_writer_dst');
      await expectNovaWriteCaught(
        applyArgs(source, target, '--batch-size', '10', '--parallel', '1'),
        source,
        'Copying inside the server',
      );
    });

    const users: string[] = [];
    afterAll(async () => {
      if (users.length === 0) return;
      const admin = await openDatabase(parseConnectionUrl(ADMIN_URLS.mysql, 'test admin'), {
        max: 1,
      });
      try {
        for (const u of users) await admin.knex.raw(`DROP USER IF EXISTS '${u}'@'%'`);
      } finally {
        await admin.close();
      }
    });

    it('a target user without SELECT on nova_api: the row path, saying why, and the same rows', async () => {
      const source = await novaApiSource(fresh, engine, 'ss_grant_src', {
        release: 'rocky',
        providers: 10,
        consumers: 200,
        seed: 9,
      });
      const target = await fresh(engine, 'ss_grant_dst');
      const user = `pu_ss_${randomBytes(4).toString('hex')}`;
      const password = randomBytes(9).toString('hex');
      users.push(user);
      const admin = await openDatabase(parseConnectionUrl(ADMIN_URLS.mysql, 'test admin'), {
        max: 1,
      });
      try {
        await admin.knex.raw(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
        await admin.knex.raw(`GRANT ALL PRIVILEGES ON \`${target.name}\`.* TO '${user}'@'%'`);
      } finally {
        await admin.close();
      }
      const asUser = target.url.replace('://root@', `://${user}:${password}@`);
      expect(asUser).not.toBe(target.url);
      const run = await runCli([
        'migrate',
        '--source',
        source.url,
        '--target',
        asUser,
        '--apply',
        '--revision',
        'stein',
        '--json',
      ]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout + run.stderr).not.toContain(password);
      const result = parseJson<MigrateResult>(run);
      expect(result.copyPath?.path).toBe('rows');
      expect(result.copyPath?.reason).toMatch(/may not read .*GRANT SELECT/);
      await expectIdentical(source, target);
    });
  },
);
