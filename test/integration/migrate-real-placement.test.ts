/**
 * The proof that counts: a target written by `migrate` is accepted by the
 * real placement 8.0.0 (Zed) — placement-manage db sync passes, and the real
 * placement service serves every provider and consumer of the source.
 */
import { describe, expect, it } from 'vitest';
import { generateNovaApi } from '../../src/fixtures/index.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { freshDatabases, testEngines } from '../helpers/databases.js';
import { realPlacementServiceAvailable, startRealPlacement } from '../helpers/api-services.js';
import { hasRealPlacement, placementManageOn } from '../helpers/real-placement.js';

const available = hasRealPlacement() && realPlacementServiceAvailable();
const fresh = freshDatabases();

// Placement under uwsgi on MariaDB, as deployments run it; the other engines
// are covered by the schema interop tests.
describe.runIf(available && testEngines().includes('mysql'))(
  'a migrated target in the real placement 8.0.0',
  () => {
    it("passes placement-manage db sync at zed, and placement serves the source's providers and allocations", async () => {
      const source = await fresh('mysql', 'realpl_src');
      const s = await source.open();
      const summary = await generateNovaApi(s, {
        release: 'queens',
        providers: 10,
        consumers: 120,
        seed: 31,
        flaws: { caseVariantNames: false, orphans: false },
      });
      await s.close();
      const target = await fresh('mysql', 'realpl_dst');

      const m = await runCli([
        'migrate',
        '--source',
        source.url,
        '--target',
        target.url,
        '--apply',
        '--revision',
        'zed',
        '--json',
      ]);
      expect(m.code, m.stdout).toBe(0);
      expect(parseJson<{ finish: { schema: { to: string } } }>(m).finish.schema.to).toBe(
        '422ece571366',
      );

      const sync = await placementManageOn(target.url, ['db', 'sync']);
      expect(sync.code, sync.stderr).toBe(0);
      const version = await placementManageOn(target.url, ['db', 'version']);
      expect(version.stdout.trim()).toBe('422ece571366');

      const service = await startRealPlacement(target.url);
      try {
        const get = async (path: string) => {
          const r = await fetch(`${service.url}${path}`, {
            headers: { 'x-auth-token': 'admin', 'openstack-api-version': 'placement 1.39' },
          });
          expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
          return (await r.json()) as Record<string, unknown>;
        };
        const providers = (await get('/resource_providers')).resource_providers as {
          uuid: string;
          root_provider_uuid: string;
        }[];
        expect(providers.length).toBe(summary.tables['resource_providers']);
        // Every provider has a root now (set_root_provider_ids ran before the Train blockers).
        expect(providers.every((p) => typeof p.root_provider_uuid === 'string')).toBe(true);
        const t = await target.open();
        try {
          const consumers = (await t.knex('allocations').distinct('consumer_id').limit(20)).map(
            (r: { consumer_id: string }) => r.consumer_id,
          );
          for (const c of consumers) {
            const a = await get(`/allocations/${c}`);
            // Visible through its consumer: create_incomplete_consumers gave every allocation one.
            expect(Object.keys(a.allocations as object).length, c).toBeGreaterThan(0);
          }
        } finally {
          await t.close();
        }
      } finally {
        await service.stop();
      }
    });
  },
);
