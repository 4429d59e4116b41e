/**
 * upgrade check --source: Source Parity passes right after a migration and
 * fails once nova writes to nova_api's placement tables.
 */
import { expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { generateNovaApi } from '../../src/fixtures/index.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { freshDatabases, testEngines } from '../helpers/databases.js';

const fresh = freshDatabases();

interface Report {
  checks: { check: string; result: number; details: string | null }[];
}

describeEach(testEngines())('Source Parity (%s)', (engine) => {
  it('passes after migrate, fails when nova writes to nova_api afterwards, and is absent without --source', async () => {
    const source = await fresh(engine, 'parity_src');
    const s = await source.open();
    await generateNovaApi(s, {
      release: 'queens',
      providers: 6,
      consumers: 60,
      seed: 8,
      flaws: { caseVariantNames: false },
    });
    const target = await fresh(engine, 'parity_dst');
    const m = await runCli(['migrate', '--source', source.url, '--target', target.url, '--apply']);
    expect(m.code, m.stdout + m.stderr).toBe(0);

    const parity = async () => {
      const r = await runCli([
        'upgrade',
        'check',
        '--placement-url',
        target.url,
        '--source',
        source.url,
        '--json',
      ]);
      return parseJson<Report>(r).checks.find((c) => c.check === 'Source Parity');
    };
    expect(await parity()).toMatchObject({ result: 0, details: null });

    const without = await runCli(['upgrade', 'check', '--placement-url', target.url, '--json']);
    expect(parseJson<Report>(without).checks.map((c) => c.check)).not.toContain('Source Parity');

    const rp = await s.knex('resource_providers').first('id');
    await s.knex('allocations').insert({
      resource_provider_id: rp?.['id'],
      consumer_id: 'abababab-abab-abab-abab-abababababab',
      resource_class_id: 0,
      used: 2,
    });
    await s.close();
    const after = await parity();
    expect(after?.result).toBe(2);
    expect(after?.details).toMatch(/allocations \(1 row, first id=\d+ missing-in-target\)/);
    expect(after?.details).toMatch(/stop nova-placement-api/);
  });
});
