/**
 * `placement-upgrade fixtures generate` through the built CLI: --json, exit
 * codes, refusing a non-empty target, --drop, --engine, and the same seed
 * giving the same rows, sizes the cloud cannot hold refused up front, and
 * SIGTERM/SIGINT ending a long run with a hint that works — on every engine,
 * and across engines.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import type { Engine } from '../../src/db/url.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import type { NovaApiSummary } from '../../src/fixtures/index.js';
import { parseJson, runCli, runWatching } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';

const databases: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});
async function fresh(engine: Engine, prefix: string): Promise<TestDatabase> {
  const d = await createTestDatabase(engine, prefix);
  databases.push(d);
  return d;
}

const PRIMARY_KEYS: Record<string, string[]> = {
  resource_provider_aggregates: ['resource_provider_id', 'aggregate_id'],
  resource_provider_traits: ['trait_id', 'resource_provider_id'],
};

/** Every placement row, as plain values in primary-key order. */
async function dump(d: TestDatabase, tables: string[]): Promise<Record<string, unknown[][]>> {
  const db = await d.open();
  try {
    const out: Record<string, unknown[][]> = {};
    for (const t of tables) {
      const rows = await db
        .knex(t)
        .select('*')
        .orderBy(PRIMARY_KEYS[t] ?? ['id']);
      out[t] = rows.map((r: Record<string, unknown>) =>
        Object.keys(r)
          .sort()
          .map((k) =>
            typeof r[k] === 'string' && /^\d+(\.\d+)?$/.test(r[k] as string) ? Number(r[k]) : r[k],
          ),
      );
    }
    return out;
  } finally {
    await db.close();
  }
}

const generate = (url: string, ...extra: string[]) =>
  runCli([
    'fixtures',
    'generate',
    '--release',
    'queens',
    '--target',
    url,
    '--providers',
    '5',
    '--consumers',
    '80',
    '--json',
    ...extra,
  ]);

describeEach(testEngines())('fixtures generate on %s', (engine) => {
  it('prints the summary as JSON, refuses a non-empty target (12), and --drop replaces it', async () => {
    const d = await fresh(engine, 'fx_cli');
    const first = await generate(d.url);
    expect(first.code, first.stderr).toBe(0);
    const summary = parseJson<NovaApiSummary>(first);
    expect(summary).toMatchObject({
      release: 'queens',
      nova: '17.0.0',
      engine,
      seed: 1,
      instances: 80,
    });
    expect(summary.tables['allocations']).toBe(summary.allocations);
    expect(summary.flaws.nullRootProviderId.count).toBeGreaterThan(0);

    const again = await generate(d.url);
    expect(again.code).toBe(ExitCode.SCHEMA_STATE);
    const err = parseJson<{ error: { code: string; message: string; hint: string } }>(again).error;
    expect(err.code).toBe('schema_state');
    expect(err.message).toMatch(/already has \d+ table/);
    expect(err.hint).toMatch(/--drop/);

    const dropped = await generate(d.url, '--drop', '--seed', '2', '--without', 'all');
    expect(dropped.code, dropped.stderr).toBe(0);
    const clean = parseJson<NovaApiSummary>(dropped);
    expect(clean.seed).toBe(2);
    expect(Object.values(clean.flaws).every((f) => f.count === 0)).toBe(true);
  });

  it('gives the same rows for the same seed, and other rows for another', async () => {
    const [a, b, c] = await Promise.all([
      fresh(engine, 'fx_seed_a'),
      fresh(engine, 'fx_seed_b'),
      fresh(engine, 'fx_seed_c'),
    ]);
    for (const [d, seed] of [
      [a, '5'],
      [b, '5'],
      [c, '6'],
    ] as const) {
      const r = await generate(d.url, '--seed', seed);
      expect(r.code, r.stderr).toBe(0);
    }
    const tables = [
      'resource_providers',
      'inventories',
      'allocations',
      'consumers',
      'traits',
      'resource_provider_traits',
    ];
    const [da, db, dc] = await Promise.all([dump(a, tables), dump(b, tables), dump(c, tables)]);
    expect(db).toEqual(da);
    expect(dc['allocations']).not.toEqual(da['allocations']);
  });

  it('rejects an --engine that the URL contradicts, an unknown release and an unknown flaw (1)', async () => {
    const d = await fresh(engine, 'fx_bad');
    const other = engine === 'sqlite' ? 'postgresql' : 'sqlite';
    const cases: [string[], RegExp][] = [
      [['--release', 'rocky', '--engine', other], /does not match/],
      [['--release', 'mitaka'], /not a nova release/],
      [['--release', 'rocky', '--with', 'no-such-flaw'], /not a fixture flaw/],
      [
        ['--release', 'rocky', '--consumers', '5', '--allocations', '5'],
        /cannot also be provided|not both/,
      ],
    ];
    for (const [extra, message] of cases) {
      const r = await runCli(['fixtures', 'generate', '--target', d.url, ...extra]);
      expect({ extra, code: r.code }).toEqual({ extra, code: ExitCode.USAGE });
      expect(r.stderr).toMatch(message);
    }
    if (engine !== 'sqlite') {
      const r = await runCli([
        'fixtures',
        'generate',
        '--release',
        'rocky',
        '--target',
        `${d.url}_missing`,
      ]);
      expect(r.code).toBe(ExitCode.DATABASE_MISSING);
    }
  });
});

/** A heap far below what an unbounded generation would take: it dies (134) instead of eating the machine. */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=64' };

async function tableCount(d: TestDatabase): Promise<number> {
  const db = await d.open();
  try {
    return (await db.dialect.listTables(db.knex)).length;
  } finally {
    await db.close();
  }
}

async function allocationRows(d: TestDatabase): Promise<number> {
  const db = await d.open();
  try {
    const [row] = db.dialect.rows<{ n: number | string }>(
      await db.knex.raw('SELECT COUNT(*) AS n FROM allocations'),
    );
    return Number(row?.n);
  } finally {
    await db.close();
  }
}

describeEach(testEngines())('fixtures generate sizes and interruptions on %s', (engine) => {
  it('refuses sizes the cloud cannot hold before writing anything (1), naming its capacity', async () => {
    const d = await fresh(engine, 'fx_huge');
    const huge = (...sizes: string[]) =>
      runCli(
        ['fixtures', 'generate', '--release', 'rocky', '--target', d.url, '--json', ...sizes],
        {
          env: SMALL_HEAP,
        },
      );
    const one = await huge('--consumers', '1000000000', '--providers', '1');
    expect(one.code, one.stderr).toBe(ExitCode.USAGE);
    const err = parseJson<{
      error: { code: string; message: string; hint: string; details: Record<string, number> };
    }>(one).error;
    expect(err.code).toBe('fixture_capacity');
    expect(err.message).toMatch(
      /cannot hold 1000000000 instances: its 1 compute host has room for at most \d+/,
    );
    expect(err.message).toMatch(/full long before\. Nothing was written/);
    expect(err.hint).toMatch(/--providers/);
    expect(err.details['hosts']).toBe(1);
    expect(err.details['instanceCapacity']).toBeGreaterThan(0);
    expect(err.details['instanceCapacity']).toBeLessThan(3000);

    const allocations = await huge('--allocations', '1000000000', '--providers', '3');
    expect(allocations.code, allocations.stderr).toBe(ExitCode.USAGE);
    expect(allocations.stdout).toMatch(/cannot hold 1000000000 allocations/);

    // Without --providers the hosts it would take are more than a fixture plans.
    for (const sizes of [
      ['--consumers', '1000000000'],
      ['--providers', '1000000000'],
    ]) {
      const r = await huge(...sizes);
      expect({ sizes, code: r.code }).toEqual({ sizes, code: ExitCode.USAGE });
      expect(r.stdout).toMatch(/more than a fixture plans: at most 100000/);
    }
    expect(await tableCount(d)).toBe(0);

    // With --drop, an existing fixture is not dropped for a size that cannot be made.
    expect((await generate(d.url)).code).toBe(0);
    const tables = await tableCount(d);
    const dropped = await huge('--consumers', '1000000000', '--providers', '1', '--drop');
    expect(dropped.code).toBe(ExitCode.USAGE);
    expect(await tableCount(d)).toBe(tables);
  });

  it('SIGTERM and SIGINT end a long generation (143, 130), and the hint, --drop, works', async () => {
    const d = await fresh(engine, 'fx_stop');
    const args = [
      'fixtures',
      'generate',
      '--release',
      'rocky',
      '--target',
      d.url,
      '--providers',
      '2500',
      '--consumers',
      '100000',
    ];
    const stop = (signal: 'SIGTERM' | 'SIGINT', extra: string[] = []) =>
      runWatching(
        [...args, ...extra],
        (line) => line.startsWith('Placing '),
        (child) => {
          child.kill(signal);
        },
      );

    const term = await stop('SIGTERM');
    expect(term.code, term.lines.join('\n')).toBe(ExitCode.INTERRUPTED_SIGTERM);
    expect(term.lines).toContain(
      'Interrupted by SIGTERM. The target holds an incomplete fixture: its tables, and its rows only if their load had finished (one transaction).',
    );
    expect(term.lines.some((l) => l.startsWith('Generated '))).toBe(false);
    const hint = term.lines.find((l) => l.startsWith('Hint: '));
    expect(hint).toMatch(/run the same command with --drop/);
    expect(hint).not.toMatch(/resume where/);
    expect(await allocationRows(d)).toBe(0); // the load's transaction was rolled back

    // What the hint warns of: the same command again refuses the tables left (12).
    const again = await runCli(args);
    expect(again.code).toBe(ExitCode.SCHEMA_STATE);

    // Following the hint; stopped again, by SIGINT this time.
    const int = await stop('SIGINT', ['--drop']);
    expect(int.code, int.lines.join('\n')).toBe(ExitCode.INTERRUPTED_SIGINT);
    expect(int.lines).toContain(
      'Interrupted by SIGINT. The target holds an incomplete fixture: its tables, and its rows only if their load had finished (one transaction).',
    );
    expect(int.lines.some((l) => l.startsWith('Generated '))).toBe(false);

    // And to its end, in a small heap: rows are streamed, not held.
    const done = await runCli([...args, '--drop', '--json'], { env: SMALL_HEAP });
    expect(done.code, done.stderr).toBe(0);
    const summary = parseJson<NovaApiSummary>(done);
    expect(summary.instances).toBe(100_000);
    expect(await allocationRows(d)).toBe(summary.allocations);
  });
});

describe.runIf(testEngines().length > 1)('across engines', () => {
  it('the same seed gives the same placement rows on every engine', async () => {
    const engines = testEngines();
    const targets = await Promise.all(engines.map((e) => fresh(e, 'fx_cross')));
    for (const t of targets) {
      const r = await generate(t.url, '--seed', '8');
      expect(r.code, r.stderr).toBe(0);
    }
    const tables = [
      'resource_providers',
      'inventories',
      'allocations',
      'consumers',
      'projects',
      'users',
    ];
    const dumps = await Promise.all(targets.map((t) => dump(t, tables)));
    for (const d of dumps.slice(1)) expect(d).toEqual(dumps[0]);
  });
});
