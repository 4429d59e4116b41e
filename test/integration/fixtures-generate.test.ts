/**
 * fixtures generate on real databases: every nova release on every engine
 * has nova's tables and columns, and the data holds what the summary says —
 * counted here with plain SQL, independently of the generator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import type { Database } from '../../src/db/connect.js';
import {
  atLeast,
  FLAW_NAMES,
  generateNovaApi,
  INCOMPLETE_CONSUMER_ID,
  NOVA_PLACEMENT_TABLE_NAMES,
  NOVA_RELEASE_NAMES,
  novaFeatures,
  type NovaApiSummary,
} from '../../src/fixtures/index.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';

async function rows<T = Record<string, unknown>>(db: Database, sql: string): Promise<T[]> {
  return db.dialect.rows<T>(await db.knex.raw(sql));
}
async function count(db: Database, sql: string): Promise<number> {
  const [row] = await rows<{ n: number | string }>(db, sql);
  return Number(row?.n ?? 0);
}

describeEach(testEngines())('fixtures on %s', (engine) => {
  let target: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    target = await createTestDatabase(engine, 'fx_gen');
    db = await target.open();
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  it.each(NOVA_RELEASE_NAMES)(
    '%s: nova’s tables and columns, version stamp, rows as summarised',
    async (release) => {
      const summary = await generateNovaApi(db, {
        release,
        providers: 6,
        consumers: 60,
        seed: 11,
        existing: 'drop',
      });
      const tables = await db.dialect.listTables(db.knex);
      const f = novaFeatures(release);
      const expectedPlacement = NOVA_PLACEMENT_TABLE_NAMES.filter(
        (t) =>
          !(
            (!f.resourceClasses && t === 'resource_classes') ||
            (!f.placementAggregates && t === 'placement_aggregates') ||
            (!f.traits && (t === 'traits' || t === 'resource_provider_traits')) ||
            (!f.consumers && ['consumers', 'projects', 'users'].includes(t))
          ),
      );
      expect(
        tables.filter((t) => (NOVA_PLACEMENT_TABLE_NAMES as readonly string[]).includes(t)).sort(),
      ).toEqual([...expectedPlacement].sort());
      expect(summary.placementTables.sort()).toEqual([...expectedPlacement].sort());
      expect(tables).toContain('cell_mappings');
      expect(tables).toContain('instance_mappings');

      const snapshot = await db.dialect.introspect(db.knex);
      const rp = snapshot.tables['resource_providers']!.columns.map((c) => c.name);
      expect(rp).toContain('can_host');
      expect(rp.includes('root_provider_id')).toBe(f.nestedProviders);
      if (f.consumers) {
        expect(snapshot.tables['consumers']!.columns.some((c) => c.name === 'generation')).toBe(
          f.consumerGeneration,
        );
      }
      if (engine === 'mysql') {
        for (const t of expectedPlacement)
          expect(snapshot.tables[t]!.collation).toMatch(/^latin1_/);
      }

      // Version tables as nova left them.
      if (summary.migrateVersion !== null) {
        expect(await count(db, 'SELECT version AS n FROM migrate_version')).toBe(
          summary.migrateVersion,
        );
      } else expect(tables).not.toContain('migrate_version');
      if (summary.alembicRevision !== null) {
        const [v] = await rows<{ v: string }>(db, 'SELECT version_num AS v FROM alembic_version');
        expect(v!.v).toBe(summary.alembicRevision);
      } else expect(tables).not.toContain('alembic_version');

      for (const [table, n] of Object.entries(summary.tables)) {
        expect({
          table,
          n: await count(db, `SELECT COUNT(*) AS n FROM ${db.dialect.quote(table)}`),
        }).toEqual({
          table,
          n,
        });
      }
      expect(summary.instances).toBe(60);
      expect(summary.allocations).toBeGreaterThanOrEqual(120);
    },
  );

  describe.each(['pike', 'queens', 'rocky', 'train', 'zed'])(
    '%s, every flaw checked',
    (release) => {
      let s: NovaApiSummary;
      beforeAll(async () => {
        s = await generateNovaApi(db, {
          release,
          providers: 24,
          consumers: 700,
          seed: 3,
          existing: 'drop',
        });
      });

      it('keeps every provider within capacity (over-capacity is off by default)', async () => {
        const over = await count(
          db,
          `SELECT COUNT(*) AS n FROM (
           SELECT a.resource_provider_id, a.resource_class_id, SUM(a.used) AS used,
                  MIN(i.total) AS total, MIN(i.reserved) AS reserved, MIN(i.allocation_ratio) AS ratio
             FROM allocations a JOIN inventories i
               ON i.resource_provider_id = a.resource_provider_id AND i.resource_class_id = a.resource_class_id
            GROUP BY a.resource_provider_id, a.resource_class_id) u
          WHERE u.used > (u.total - u.reserved) * u.ratio + 0.0001`,
        );
        expect(over).toBe(0);
        // Allocations only where an inventory is, except the orphans.
        const withoutInventory = await count(
          db,
          `SELECT COUNT(*) AS n FROM allocations a WHERE NOT EXISTS (
           SELECT 1 FROM inventories i WHERE i.resource_provider_id = a.resource_provider_id
              AND i.resource_class_id = a.resource_class_id)`,
        );
        expect(withoutInventory).toBe(0);
        const perConsumer = await rows<{ n: number | string }>(
          db,
          `SELECT COUNT(DISTINCT resource_provider_id) AS n FROM allocations GROUP BY consumer_id`,
        );
        const max = Math.max(...perConsumer.map((r) => Number(r.n)));
        expect(max).toBeLessThanOrEqual(atLeast(release, 'queens') ? 3 : 4);
        expect(Math.min(...perConsumer.map((r) => Number(r.n)))).toBe(1);
      });

      it('plants the flaws it reports, counted independently', async () => {
        const flaws = s.flaws;
        expect(
          await count(
            db,
            'SELECT COUNT(*) AS n FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM resource_providers p WHERE p.id = a.resource_provider_id)',
          ),
        ).toBe(flaws.orphans.details!['allocations']);
        expect(
          await count(
            db,
            'SELECT COUNT(*) AS n FROM inventories i WHERE NOT EXISTS (SELECT 1 FROM resource_providers p WHERE p.id = i.resource_provider_id)',
          ),
        ).toBe(flaws.orphans.details!['inventories']);
        expect(
          await count(
            db,
            'SELECT COUNT(*) AS n FROM resource_provider_aggregates r WHERE NOT EXISTS (SELECT 1 FROM resource_providers p WHERE p.id = r.resource_provider_id)',
          ),
        ).toBe(flaws.orphans.details!['resourceProviderAggregates']);
        expect(
          await count(
            db,
            'SELECT COUNT(*) AS n FROM allocations a WHERE a.resource_class_id >= 10000 AND NOT EXISTS (SELECT 1 FROM resource_classes c WHERE c.id = a.resource_class_id)',
          ),
        ).toBe(flaws.orphans.details!['allocationsOfDeletedClass']);
        expect(flaws.orphans.count).toBeGreaterThan(0);

        const withoutConsumer = await count(
          db,
          'SELECT COUNT(*) AS n FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM consumers c WHERE c.uuid = a.consumer_id)',
        );
        expect(withoutConsumer).toBe(flaws.allocationsWithoutConsumers.count);
        expect(withoutConsumer).toBeGreaterThan(0);
        expect(
          await count(
            db,
            'SELECT COUNT(DISTINCT consumer_id) AS n FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM consumers c WHERE c.uuid = a.consumer_id)',
          ),
        ).toBe(flaws.allocationsWithoutConsumers.details!['consumers']);
        expect(
          await count(
            db,
            'SELECT COUNT(*) AS n FROM consumers c WHERE NOT EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_id = c.uuid)',
          ),
        ).toBe(flaws.consumersWithoutAllocations.count);
        expect(flaws.consumersWithoutAllocations.count).toBeGreaterThan(0);
        const incomplete = await count(
          db,
          `SELECT COUNT(*) AS n FROM consumers c JOIN projects p ON p.id = c.project_id JOIN users u ON u.id = c.user_id
          WHERE p.external_id = '${INCOMPLETE_CONSUMER_ID}' AND u.external_id = '${INCOMPLETE_CONSUMER_ID}'`,
        );
        expect(incomplete).toBe(flaws.incompleteConsumers.count);
        expect(incomplete > 0).toBe(atLeast(release, 'rocky'));
        // Every consumers row points at real projects and users.
        expect(
          await count(
            db,
            'SELECT COUNT(*) AS n FROM consumers c WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = c.project_id) OR NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id)',
          ),
        ).toBe(0);

        if (atLeast(release, 'queens')) {
          const nullRoot = await count(
            db,
            'SELECT COUNT(*) AS n FROM resource_providers WHERE root_provider_id IS NULL',
          );
          expect(nullRoot).toBe(flaws.nullRootProviderId.count);
          expect(nullRoot).toBeGreaterThan(0);
          // Children always have a root and a parent, and the root is their parent's.
          expect(
            await count(
              db,
              'SELECT COUNT(*) AS n FROM resource_providers c JOIN resource_providers p ON p.id = c.parent_provider_id WHERE c.root_provider_id IS NULL OR c.root_provider_id <> p.id',
            ),
          ).toBe(0);
          expect(
            await count(
              db,
              'SELECT COUNT(*) AS n FROM resource_providers WHERE parent_provider_id IS NOT NULL',
            ),
          ).toBe(s.providers.numa + s.providers.gpu);
        } else expect(flaws.nullRootProviderId.applicable).toBe(false);

        expect(
          await count(db, 'SELECT COUNT(*) AS n FROM resource_providers WHERE can_host = 1'),
        ).toBe(flaws.canHostValues.details!['one']);
        expect(
          await count(db, 'SELECT COUNT(*) AS n FROM resource_providers WHERE can_host IS NULL'),
        ).toBe(flaws.canHostValues.details!['null']);
        expect(
          await count(db, 'SELECT COUNT(*) AS n FROM resource_providers WHERE can_host = 0'),
        ).toBe(s.providers.total - flaws.canHostValues.count);

        // Names: non-ASCII ones survive the round trip; case twins are distinct rows.
        const names = (await rows<{ name: string }>(db, 'SELECT name FROM resource_providers')).map(
          (r) => r.name,
        );
        expect(names.filter((n) => /[^ -~]/.test(n))).toHaveLength(flaws.nonAsciiNames.count);
        expect(
          names.some(
            (n) =>
              n.includes('ü') ||
              n.includes('ô') ||
              /[\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff\u0370-\u03ff]/.test(n),
          ),
        ).toBe(true);
        const lower = new Map<string, number>();
        for (const n of names) lower.set(n.toLowerCase(), (lower.get(n.toLowerCase()) ?? 0) + 1);
        expect([...lower.values()].filter((v) => v > 1)).toHaveLength(flaws.caseVariantNames.count);

        const traits = await count(db, 'SELECT COUNT(*) AS n FROM traits');
        if (release === 'pike' || release === 'queens')
          expect(traits).toBe(flaws.unsyncedTraits.count);
        else expect(traits).toBeGreaterThan(345);
        expect(await count(db, 'SELECT MIN(id) AS n FROM resource_classes')).toBe(10000);
      });

      it('numbers new rows after the generated ones (sequences moved on)', async () => {
        const before = await count(db, 'SELECT MAX(id) AS n FROM allocations');
        await db.knex('projects').insert({ external_id: 'probe-project' });
        await db
          .knex('allocations')
          .insert({ resource_provider_id: 1, consumer_id: 'probe', resource_class_id: 0, used: 1 });
        expect(
          await count(db, "SELECT id AS n FROM allocations WHERE consumer_id = 'probe'"),
        ).toBeGreaterThan(before);
        await db.knex('allocations').where({ consumer_id: 'probe' }).del();
        await db.knex('projects').where({ external_id: 'probe-project' }).del();
      });
    },
  );

  it('over-capacity, when asked, leaves providers whose usage exceeds capacity', async () => {
    const s = await generateNovaApi(db, {
      release: 'stein',
      providers: 30,
      consumers: 900,
      seed: 2,
      existing: 'drop',
      flaws: { overCapacity: true },
    });
    const over = await count(
      db,
      `SELECT COUNT(DISTINCT u.resource_provider_id) AS n FROM (
         SELECT a.resource_provider_id, SUM(a.used) AS used, MIN(i.total) AS total, MIN(i.reserved) AS reserved, MIN(i.allocation_ratio) AS ratio
           FROM allocations a JOIN inventories i
             ON i.resource_provider_id = a.resource_provider_id AND i.resource_class_id = a.resource_class_id
          WHERE a.resource_class_id = 0
          GROUP BY a.resource_provider_id) u
        WHERE u.used > (u.total - u.reserved) * u.ratio`,
    );
    expect(s.flaws.overCapacity.count).toBeGreaterThan(0);
    expect(over).toBe(s.flaws.overCapacity.count);
  });

  it('with every flaw off, the data is clean where the schema allows', async () => {
    const s = await generateNovaApi(db, {
      release: 'train',
      providers: 10,
      consumers: 200,
      seed: 9,
      existing: 'drop',
      flaws: Object.fromEntries(FLAW_NAMES.map((k) => [k, false])),
    });
    for (const f of Object.values(s.flaws)) expect(f.count).toBe(0);
    expect(
      await count(
        db,
        'SELECT COUNT(*) AS n FROM resource_providers WHERE root_provider_id IS NULL',
      ),
    ).toBe(0);
    expect(
      await count(
        db,
        'SELECT COUNT(*) AS n FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM consumers c WHERE c.uuid = a.consumer_id)',
      ),
    ).toBe(0);
    expect(
      await count(
        db,
        'SELECT COUNT(*) AS n FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM resource_providers p WHERE p.id = a.resource_provider_id)',
      ),
    ).toBe(0);
  });
});
