/**
 * A MySQL target whose text is latin1 (a server without utf8mb4 defaults,
 * Galera or not): the plan finds the names it cannot hold before anything
 * is written (exit 23, with what to change), warns when every name fits but
 * later ones will not, and a target given utf8mb4 takes every name as it is.
 */
import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../helpers/cli.js';
import { freshDatabases, testEngines, withOpen } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';

const fresh = freshDatabases();
const NAME = 'cómpute-ünïcode-名';

interface Plan {
  outcome: string;
  conditions: { id: string; severity: string; examples?: string[]; hint?: string }[];
}

describe.runIf(testEngines().includes('mysql'))('migrate into a latin1 target (mysql)', () => {
  async function source(name?: string) {
    const s = await novaApiSource(fresh, 'mysql', 'cs_src', {
      release: 'rocky',
      providers: 6,
      consumers: 20,
      seed: 3,
      flaws: { orphans: false },
    });
    if (name) {
      await withOpen(s, (db) => db.knex('resource_providers').where({ id: 1 }).update({ name }));
    }
    return s;
  }

  it('a name latin1 cannot hold: refused in the plan and by --apply (23), nothing written; utf8mb4 then takes it', async () => {
    const src = await source(NAME);
    const dst = await fresh('mysql', 'cs_dst', { charset: 'latin1' });
    const plan = await runCli(['migrate', '--source', src.url, '--target', dst.url, '--json']);
    expect(plan.code, plan.stderr).toBe(23);
    const blocking = parseJson<Plan>(plan).conditions.find(
      (c) => c.id === 'unstorable_resource_providers',
    );
    expect(blocking?.severity).toBe('blocking');
    expect(blocking?.examples).toEqual([JSON.stringify(NAME)]);
    expect(blocking?.hint).toMatch(/ALTER DATABASE .* CHARACTER SET utf8mb4/);

    const apply = await runCli(['migrate', '--source', src.url, '--target', dst.url, '--apply']);
    expect(apply.code, apply.stderr).toBe(23);
    expect(apply.stderr).not.toMatch(/bug|at Connection/);
    expect(await withOpen(dst, (db) => db.dialect.listTables(db.knex))).toEqual([]);

    await withOpen(dst, (db) =>
      db.knex.raw(
        `ALTER DATABASE \`${dst.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
      ),
    );
    const again = await runCli(['migrate', '--source', src.url, '--target', dst.url, '--apply']);
    expect(again.code, again.stderr).toBe(0);
    const names = await withOpen(dst, (db) => db.knex('resource_providers').pluck('name'));
    expect(names).toContain(NAME);
  });

  it('tables that already have latin1: refused, with how to convert them', async () => {
    const src = await source(NAME);
    const dst = await fresh('mysql', 'cs_tbl', { charset: 'latin1' });
    const sync = await runCli([
      'db',
      'sync',
      '--placement-url',
      dst.url,
      '--revision',
      'b4ed3a175331',
    ]);
    expect(sync.code, sync.stderr).toBe(0);
    const plan = await runCli(['migrate', '--source', src.url, '--target', dst.url, '--json']);
    expect(plan.code, plan.stderr).toBe(23);
    const blocking = parseJson<Plan>(plan).conditions.find(
      (c) => c.id === 'unstorable_resource_providers',
    );
    expect(blocking?.hint).toMatch(
      /tables already have latin1: convert each \(ALTER TABLE resource_providers CONVERT TO CHARACTER SET utf8mb4/,
    );
  });

  it('every name fits: copied, with a warning that later names will not', async () => {
    const src = await source('café-compute');
    const dst = await fresh('mysql', 'cs_fits', { charset: 'latin1' });
    const plan = await runCli(['migrate', '--source', src.url, '--target', dst.url, '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const conditions = parseJson<Plan>(plan).conditions;
    expect(conditions.some((c) => c.id.startsWith('unstorable_'))).toBe(false);
    expect(conditions.find((c) => c.id === 'narrow_target_charset')?.severity).toBe('warning');
    const apply = await runCli(['migrate', '--source', src.url, '--target', dst.url, '--apply']);
    expect(apply.code, apply.stderr).toBe(0);
    const names = await withOpen(dst, (db) => db.knex('resource_providers').pluck('name'));
    expect(names).toContain('café-compute');
  });
});
