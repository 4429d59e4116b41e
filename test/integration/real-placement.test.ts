/**
 * Interoperability with the real placement (Debian 8.0.0, Zed): its own
 * migrations give the same schema as ours, its placement-manage accepts a
 * database we created, and we accept one it created. Required in CI.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';
import {
  placementManageOn,
  placementUpgradeTo,
  realPlacementAvailable,
  realPlacementRequired,
} from '../helpers/real-placement.js';

const available = realPlacementAvailable();
if (!available && realPlacementRequired()) {
  throw new Error(
    'Debian placement (placement-manage) is required in CI: run scripts/install-system-deps.sh',
  );
}
if (!available) {
  process.stderr.write(
    '\n!! placement-manage is not installed: real-placement interoperability tests are SKIPPED\n\n',
  );
}

describe.runIf(available).each(testEngines())('with the real placement 8.0.0 on %s', (engine) => {
  const databases: TestDatabase[] = [];
  const fresh = async (prefix: string) => {
    const d = await createTestDatabase(engine, prefix);
    databases.push(d);
    return d;
  };
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.drop()));
  });

  it.each(['b4ed3a175331', '611cd6dffd7b', 'b5c396305c25', '422ece571366'])(
    "our db sync to %s equals placement's own migrations, live",
    async (revision) => {
      const theirs = await fresh(`theirs_${revision}`);
      const r = await placementUpgradeTo(theirs.url, revision);
      expect(r.code, r.stderr).toBe(0);
      const ours = await fresh(`ours_${revision}`);
      const s = await runCli(['db', 'sync', '--placement-url', ours.url, '--revision', revision]);
      expect(s.code, s.stderr).toBe(0);
      const [a, b] = await Promise.all([theirs.open(), ours.open()]);
      try {
        expect(await b.dialect.introspect(b.knex)).toEqual(await a.dialect.introspect(a.knex));
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
  );

  it('placement-manage reads and syncs a database we created at zed', async () => {
    const ours = await fresh('pm_reads');
    expect(
      (await runCli(['db', 'sync', '--placement-url', ours.url, '--revision', 'zed'])).code,
    ).toBe(0);
    const version = await placementManageOn(ours.url, ['db', 'version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe('422ece571366');
    const sync = await placementManageOn(ours.url, ['db', 'sync']);
    expect(sync.code, sync.stderr).toBe(0);
  });

  it('placement-manage upgrades our initial schema through the blockers', async () => {
    const ours = await fresh('pm_upgrades');
    expect(
      (await runCli(['db', 'sync', '--placement-url', ours.url, '--revision', 'stein'])).code,
    ).toBe(0);
    const sync = await placementManageOn(ours.url, ['db', 'sync']);
    expect(sync.code, sync.stderr).toBe(0);
    const v = await runCli(['db', 'version', '--placement-url', ours.url, '--json']);
    expect(parseJson(v)).toMatchObject({ revision: '422ece571366', release: 'xena' });
  });

  it('we read and upgrade a database placement-manage created', async () => {
    const theirs = await fresh('pm_created');
    const sync = await placementManageOn(theirs.url, ['db', 'sync']);
    expect(sync.code, sync.stderr).toBe(0);
    const v = await runCli(['db', 'version', '--placement-url', theirs.url]);
    expect(v.stdout.trim()).toBe('422ece571366');
    const up = await runCli(['db', 'sync', '--placement-url', theirs.url, '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(parseJson(up)).toMatchObject({ from: '422ece571366', to: 'a082b8bb98d0' });
  });
});
