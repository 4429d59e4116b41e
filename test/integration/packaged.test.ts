/**
 * The package as users install it: packed, installed into an empty
 * directory together with the example plugin package (examples/), and run
 * from there. The README's first command runs as written; plugins load
 * from an npm package, a directory and the placement config, and a plugin
 * that throws, hangs or exports the wrong thing is only its own failure.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { ROOT } from '../helpers/cli.js';
import { installPacked, readmeFirstCommand, type Installed } from '../helpers/packaged.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A user's shell in the install directory: no npm_* variables of the test runner, no registry for npx. */
function sh(command: string, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', command],
      {
        cwd,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/tmp',
          NO_COLOR: '1',
          npm_config_offline: 'true',
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface CheckJson {
  checks: { check: string; result: number; details: string | null }[];
}

const EXAMPLE = join(ROOT, 'examples', 'placement-upgrade-plugin-example');
let installed: Installed;

beforeAll(async () => {
  installed = await installPacked([EXAMPLE]);
}, 300_000);

afterAll(() => installed?.remove());

describe('installed from its npm tarball into an empty directory', () => {
  it("the README's first command is one npx command that needs no checkout", () => {
    const command = readmeFirstCommand();
    expect(command).toMatch(/^npx placement-upgrade migrate /);
    expect(command).not.toMatch(/fixtures\//);
  });

  it('the README\'s first command migrates the bundled sample, and a rerun is "already migrated"', async () => {
    const command = readmeFirstCommand();
    const first = await sh(command, installed.dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/verified 11 tables: counts and checksums equal/);
    expect(existsSync(join(installed.dir, 'placement.sqlite'))).toBe(true);
    const again = await sh(command, installed.dir);
    expect(again.code, again.stdout + again.stderr).toBe(ExitCode.ALREADY_MIGRATED);
  });

  it('a SQLite source path that does not exist is "database missing" (10), naming the path', async () => {
    const r = await sh(
      'npx placement-upgrade migrate --source sqlite:///fixtures/sample/nova_api.sqlite --target sqlite:///other.sqlite',
      installed.dir,
    );
    expect(r.code, r.stderr).toBe(ExitCode.DATABASE_MISSING);
    expect(r.stderr).toContain(
      `${join(installed.dir, 'fixtures', 'sample', 'nova_api.sqlite')} does not exist`,
    );
    expect(r.stderr).toMatch(/--source sample/);
    expect(r.stderr).not.toMatch(/without nova/);
  });
});

describe('plugins from outside the package', () => {
  let db: string;
  let pluginDir: string;

  beforeAll(async () => {
    const migrated = await sh(
      'npx placement-upgrade migrate --source sample --target sqlite:///plugins.sqlite --apply --json',
      installed.dir,
    );
    expect(migrated.code, migrated.stderr).toBe(0);
    db = join(installed.dir, 'plugins.sqlite');
    // What the example plugin looks for: a provider without inventory, names with blanks.
    const sqlite = new BetterSqlite3(db);
    sqlite
      .prepare(
        "INSERT INTO resource_providers (id, uuid, name, generation, root_provider_id) VALUES (9001, '00000000-0000-0000-0000-000000009001', '  spare host  ', 0, 9001)",
      )
      .run();
    sqlite.close();
    pluginDir = join(installed.dir, 'plugins');
    mkdirSync(pluginDir);
    // No imports: a directory plugin need not resolve placement-upgrade itself.
    writeFileSync(
      join(pluginDir, '10-site-policy.mjs'),
      "export default { name: 'site', checks: [{ title: 'Site Policy', run: async () => ({ code: 0, details: null }) }] };\n",
    );
    writeFileSync(
      join(pluginDir, '20-throws.mjs'),
      "export default { checks: [{ title: 'Throws', run: async () => { throw new Error('kaboom'); } }], onlineDataMigrations: [{ name: 'throws_migration', summary: 'x', start: () => async () => { throw new Error('kaboom'); } }] };\n",
    );
    writeFileSync(
      join(pluginDir, '30-hangs.mjs'),
      "export default { checks: [{ title: 'Hangs', run: () => new Promise(() => {}) }] };\n",
    );
    writeFileSync(join(pluginDir, '40-wrong-shape.mjs'), 'export default 42;\n');
    writeFileSync(join(pluginDir, '50-no-load.mjs'), "throw new Error('broken at import');\n");
    writeFileSync(
      join(pluginDir, '60-duplicate.mjs'),
      "export default { checks: [{ title: 'Database Revision', run: async () => ({ code: 0, details: null }) }] };\n",
    );
  });

  const check = async (args: string): Promise<{ r: Run; json: CheckJson }> => {
    const r = await sh(`npx placement-upgrade upgrade check --json ${args}`, installed.dir);
    let json: CheckJson;
    try {
      json = JSON.parse(r.stdout) as CheckJson;
    } catch {
      throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    return { r, json };
  };
  const result = (json: CheckJson, title: string) => json.checks.find((c) => c.check === title);

  it('an npm package plugin adds its check after the built-in ones', async () => {
    const { r, json } = await check(
      `--placement-url sqlite:///plugins.sqlite --plugin placement-upgrade-plugin-example`,
    );
    const titles = json.checks.map((c) => c.check);
    expect(titles.at(-1)).toBe('Providers Without Inventory');
    expect(titles.indexOf('Nova-era Leftovers')).toBeLessThan(titles.length - 1);
    const sqlite = new BetterSqlite3(db, { readonly: true });
    const { n } = sqlite
      .prepare(
        'SELECT COUNT(*) AS n FROM resource_providers rp WHERE NOT EXISTS (SELECT 1 FROM inventories i WHERE i.resource_provider_id = rp.id)',
      )
      .get() as { n: number };
    sqlite.close();
    expect(result(json, 'Providers Without Inventory')).toEqual({
      check: 'Providers Without Inventory',
      result: 1,
      details: expect.stringMatching(
        new RegExp(`^${n} resource providers? without inventory: nothing can be scheduled`),
      ) as string,
    });
    // A plugin's check is advisory unless it declares a gate: it counts under --checks all.
    expect(r.code).toBe(0);
    const all = await check(
      `--placement-url sqlite:///plugins.sqlite --plugin placement-upgrade-plugin-example --checks all`,
    );
    expect(all.r.code).toBe(Math.max(...all.json.checks.map((c) => c.result)));
  });

  it("a package not installed is that plugin's failure, not the run's", async () => {
    const { json } = await check(
      `--placement-url sqlite:///plugins.sqlite --plugin no-such-plugin`,
    );
    expect(result(json, 'Plugin no-such-plugin')).toMatchObject({
      result: 2,
      details: expect.stringMatching(/no package no-such-plugin is installed/) as string,
    });
    expect(result(json, 'Database Revision')).toMatchObject({ result: 0 });
  });

  it('--plugin-dir: a plugin that throws, hangs, exports the wrong shape, fails to load or repeats a title fails alone', async () => {
    const { r, json } = await check(
      `--placement-url sqlite:///plugins.sqlite --plugin-dir plugins --plugin-timeout 1`,
    );
    expect(r.code, r.stderr).toBe(2);
    expect(result(json, 'Site Policy')).toEqual({ check: 'Site Policy', result: 0, details: null });
    expect(result(json, 'Throws')).toMatchObject({
      result: 2,
      details: expect.stringMatching(
        /^The check could not run: plugin 20-throws: kaboom/,
      ) as string,
    });
    expect(result(json, 'Hangs')).toMatchObject({
      result: 2,
      details: expect.stringMatching(/did not finish within 1 s/) as string,
    });
    expect(result(json, 'Plugin 40-wrong-shape')?.details).toMatch(
      /default export is not a plugin/,
    );
    expect(result(json, 'Plugin 50-no-load')?.details).toMatch(/broken at import/);
    expect(result(json, 'Plugin 60-duplicate')?.details).toMatch(
      /a check titled "Database Revision" exists already/,
    );
    // The built-in checks all ran, once each.
    expect(json.checks.filter((c) => c.check === 'Database Revision')).toHaveLength(1);
    expect(result(json, 'Nova-era Leftovers')).toBeDefined();
  });

  it('[placement_upgrade] plugins and plugin_dirs in the placement config load them too', async () => {
    const conf = join(installed.dir, 'placement.conf');
    writeFileSync(
      conf,
      `[placement_database]\nconnection = sqlite:///${db}\n\n[placement_upgrade]\nplugins = placement-upgrade-plugin-example\nplugin_dirs = plugins\n`,
    );
    const { json } = await check(`--placement-config ${conf} --plugin-timeout 1`);
    const titles = json.checks.map((c) => c.check);
    expect(titles).toContain('Providers Without Inventory');
    expect(titles).toContain('Site Policy');
    expect(titles.indexOf('Providers Without Inventory')).toBeLessThan(
      titles.indexOf('Site Policy'),
    );
  });

  it("online data migrations: the package plugin's migration runs after placement's, batch by batch", async () => {
    const r = await sh(
      'npx placement-upgrade db online-data-migrations --placement-url sqlite:///plugins.sqlite --plugin placement-upgrade-plugin-example',
      installed.dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 rows matched query trim_provider_names, 1 migrated/);
    expect(r.stdout).toMatch(/\| +trim_provider_names +\| +1 +\| +1 +\|/);
    const sqlite = new BetterSqlite3(db, { readonly: true });
    expect(sqlite.prepare('SELECT name FROM resource_providers WHERE id = 9001').get()).toEqual({
      name: 'spare host',
    });
    sqlite.close();
  });

  it('online data migrations: a plugin migration that throws is reported by name, the others still run', async () => {
    const r = await sh(
      'npx placement-upgrade db online-data-migrations --placement-url sqlite:///plugins.sqlite --plugin-dir plugins --plugin-timeout 1',
      installed.dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toMatch(/Error attempting to run throws_migration/);
    expect(r.stderr).toMatch(/throws_migration: plugin 20-throws: kaboom/);
    expect(r.stdout).toMatch(/Error attempting to run plugin 50-no-load/);
    expect(r.stdout).toMatch(/\| +set_root_provider_ids +\|/);
    expect(r.stdout).toMatch(/\| +create_incomplete_consumers +\|/);
  });

  it('"placement-upgrade/plugin" gives plugin authors types: a plugin of the right shape compiles, a wrong one does not', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const dir = join(installed.dir, 'typed');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        include: ['*.mts'],
      }),
    );
    const good = `import { definePlugin, warning, type UpgradeCheck } from 'placement-upgrade/plugin';
const c: UpgradeCheck = { title: 'T', run: async ({ database }) => { await database.knex('traits').count(); return warning('w'); } };
export default definePlugin({ checks: [c], onlineDataMigrations: [{ name: 'm', summary: 's', start: () => async (n: number) => ({ found: 0, done: Math.min(n, 0) }) }] });
`;
    writeFileSync(join(dir, 'good.mts'), good);
    const ok = await sh(`node ${tsc} -p ${dir}`, installed.dir);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    writeFileSync(
      join(dir, 'bad.mts'),
      `import { definePlugin } from 'placement-upgrade/plugin';\nexport default definePlugin({ checks: [{ title: 3, run: async () => ({ code: 7, details: null }) }] });\n`,
    );
    const bad = await sh(`node ${tsc} -p ${dir}`, installed.dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(/bad\.mts.*error TS2322/);
  });
});
