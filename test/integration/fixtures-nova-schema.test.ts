/**
 * The generated current-release schema is nova's: nova 26 (Zed, Debian's
 * python3-nova) creates its nova_api with its own code (what `nova-manage
 * api_db sync` runs), and every table the fixtures create for Zed must
 * introspect identically — columns, types, defaults, keys, indexes, foreign
 * keys, MySQL table collations and column character sets.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.js';
import { generateNovaApi } from '../../src/fixtures/index.js';
import type { TableSnapshot } from '../../src/schema/model.js';
import { ROOT } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';

const NOVA_CODE = '/usr/lib/python3/dist-packages/nova/db/migration.py';
const hasNova = existsSync(NOVA_CODE);
const required = process.env['CI'] === 'true' || process.env['PU_REQUIRE_SERVERS'] === '1';
const run = promisify(execFile);

/** Order-insensitive where order carries no meaning (index and constraint lists). */
function normalise(t: TableSnapshot): TableSnapshot {
  const byName = <T extends { name: string | null }>(a: T[]) =>
    [...a].sort((x, y) => String(x.name).localeCompare(String(y.name)));
  return {
    ...t,
    uniques: byName(t.uniques),
    indexes: byName(t.indexes),
    foreignKeys: [...t.foreignKeys].sort((x, y) =>
      x.columns.join().localeCompare(y.columns.join()),
    ),
  };
}

async function columnCharsets(db: Database): Promise<string[]> {
  const rows = db.dialect.rows<{ t: string; c: string; cs: string; co: string }>(
    await db.knex.raw(
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IS NOT NULL
        ORDER BY TABLE_NAME, COLUMN_NAME`,
    ),
  );
  return rows.map((r) => `${r.t}.${r.c} ${r.cs} ${r.co}`);
}

describe('python3-nova is available for the schema comparison', () => {
  it.runIf(required)('is installed (scripts/install-system-deps.sh)', () => {
    expect(hasNova, `${NOVA_CODE} is missing: run scripts/install-system-deps.sh`).toBe(true);
  });
});

describe.runIf(hasNova).each(testEngines())(
  'nova 26 (Zed) nova_api vs fixtures on %s',
  (engine) => {
    const databases: TestDatabase[] = [];
    afterAll(async () => {
      await Promise.all(databases.map((d) => d.drop()));
    });

    it('creates the same tables, columns, keys and indexes as nova’s own migrations', async () => {
      const nova = await createTestDatabase(engine, 'fx_nova_real');
      databases.push(nova);
      const ours = await createTestDatabase(engine, 'fx_nova_ours');
      databases.push(ours);

      const { stdout } = await run(
        '/usr/bin/python3',
        [join(ROOT, 'scripts', 'nova-api-db-sync.py'), nova.url],
        {
          env: {
            PATH: process.env['PATH'] ?? '/usr/bin:/bin',
            HOME: process.env['HOME'] ?? '/tmp',
          },
        },
      );
      expect(stdout.trim()).toBe('b30f573d3377');

      const [n, o] = await Promise.all([nova.open(), ours.open()]);
      try {
        const summary = await generateNovaApi(o, {
          release: 'zed',
          providers: 4,
          consumers: 40,
          seed: 1,
        });
        expect(summary.alembicRevision).toBe('b30f573d3377');
        const real = await n.dialect.introspect(n.knex);
        const generated = await o.dialect.introspect(o.knex);

        const ourTables = Object.keys(generated.tables).filter((t) => t !== 'migrate_version');
        // migrate_version: a Zed database upgraded from older releases keeps it; a fresh one has none.
        expect(Object.keys(generated.tables)).toContain('migrate_version');
        for (const t of summary.placementTables) expect(ourTables).toContain(t);
        for (const table of ourTables) {
          expect(real.tables[table], `nova has no table ${table}`).toBeDefined();
          expect({ table, ...normalise(generated.tables[table]!) }).toEqual({
            table,
            ...normalise(real.tables[table]!),
          });
        }

        if (engine === 'mysql') {
          const novaCharsets = (await columnCharsets(n)).filter((l) =>
            ourTables.includes(l.split('.')[0]!),
          );
          expect(
            (await columnCharsets(o)).filter((l) => ourTables.includes(l.split('.')[0]!)),
          ).toEqual(novaCharsets);
          // The point of it all: latin1 tables, utf8_bin names.
          expect(novaCharsets).toContain('resource_providers.name utf8mb3 utf8mb3_bin');
          expect(novaCharsets).toContain('traits.name utf8mb3 utf8mb3_bin');
          expect(real.tables['allocations']!.collation).toMatch(/^latin1_/);
        }
      } finally {
        await Promise.all([n.close(), o.close()]);
      }
    });
  },
);
