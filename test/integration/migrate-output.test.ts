/**
 * What migrate prints for an operator, on the bundled sample: one number
 * format ("2,312", never "2312" beside it), counted nouns in the singular for
 * one and never "row(s)", target states in words, and a rerun that says the
 * schema is already where it was asked to be instead of "X → X".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pu-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SOURCE = 'sqlite:///fixtures/sample/nova_api.sqlite';

const all = (r: CliResult) => `${r.stdout}\n${r.stderr}`;

/** The ways a count was printed wrong before: "(s)", a bare number ≥ 1000, a plural for one. */
function wordingFaults(text: string): string[] {
  return [
    ...(text.match(/.*\w\(s\).*/g) ?? []),
    ...(text.match(/.*(?<![\w,.:/])\d{4,}(?![\w,.]).*/g) ?? []),
    ...(text.match(
      /.*(?<![\d,.])1 (rows|providers|pairs|tables|consumers|allocations|links|groups|values|routes)\b.*/g,
    ) ?? []),
  ];
}

describe('migrate output on the bundled sample (SQLite)', () => {
  const target = `sqlite:///${join(dir, 'placement.sqlite')}`;

  it('counts rows one way, in words that agree with the count', async () => {
    const plan = await runCli(['migrate', '--source', SOURCE, '--target', target]);
    expect(plan.code).toBe(ExitCode.OK);
    const apply = await runCli(['migrate', '--source', SOURCE, '--target', target, '--apply']);
    expect(apply.code, apply.stderr).toBe(ExitCode.OK);
    for (const r of [plan, apply]) expect(wordingFaults(all(r))).toEqual([]);
    expect(apply.stdout).toContain('copy 2,312 rows');
    expect(apply.stderr).toContain('copied allocations: 2,312 rows');
    expect(apply.stdout).toMatch(/Copied 3,769 rows in 11 tables/);
    expect(apply.stdout).toContain('Schema: b4ed3a175331 → ');
  });

  it('a rerun says the schema is already at its revision, not "X → X"', async () => {
    const rerun = await runCli(['migrate', '--source', SOURCE, '--target', target, '--apply']);
    expect(rerun.code).toBe(ExitCode.ALREADY_MIGRATED);
    expect(rerun.stdout).not.toMatch(/Schema: (\w+) → \1\b/);
    expect(rerun.stdout).toMatch(/Schema: already at [0-9a-f]{12}/);
    expect(wordingFaults(all(rerun))).toEqual([]);
  });

  it('names the state of the target in words (--json keeps the name)', async () => {
    const synced = `sqlite:///${join(dir, 'synced.sqlite')}`;
    const sync = await runCli([
      'db',
      'sync',
      '--placement-url',
      synced,
      '--revision',
      'b4ed3a175331',
    ]);
    expect(sync.code, sync.stderr).toBe(ExitCode.OK);
    const plan = await runCli(['migrate', '--source', SOURCE, '--target', synced]);
    expect(plan.stdout).toMatch(/^Target: .* — placement's schema, no rows at b4ed3a175331$/m);
    expect(plan.stdout).not.toContain('empty-schema');
    const json = await runCli(['migrate', '--source', SOURCE, '--target', synced, '--json']);
    expect((JSON.parse(json.stdout) as { target: { state: string } }).target.state).toBe(
      'empty-schema',
    );
  });
});

describe('fixtures generate output', () => {
  it('says "1 provider" and "1 pair", and counts rows as migrate does', async () => {
    const target = `sqlite:///${join(dir, 'nova_api.sqlite')}`;
    const r = await runCli(['fixtures', 'generate', '--target', target, '--release', 'rocky']);
    expect(r.code, r.stderr).toBe(ExitCode.OK);
    expect(r.stdout).toMatch(/^case-variant-names +1 pair$/m);
    expect(wordingFaults(all(r))).toEqual([]);
  });
});

describe('migrate --tables, a subset at a time (SQLite)', () => {
  it('leaves each subset resumable at the initial schema; the run with the last tables finishes', async () => {
    const target = `sqlite:///${join(dir, 'subsets.sqlite')}`;
    const run = (...tables: string[]) =>
      runCli([
        'migrate',
        '--source',
        SOURCE,
        '--target',
        target,
        '--apply',
        '--tables',
        tables.join(','),
        '--json',
      ]);
    const outcome = (r: CliResult) => (JSON.parse(r.stdout) as { outcome: string }).outcome;
    const version = async () =>
      (await runCli(['db', 'version', '--placement-url', target])).stdout.trim();

    const first = await run('allocations');
    expect(first.code, first.stdout).toBe(ExitCode.OK);
    expect(outcome(first)).toBe('tables-copied');
    const second = await run('consumers', 'projects');
    expect(second.code, second.stdout).toBe(ExitCode.OK);
    expect(outcome(second)).toBe('tables-copied');
    // Still at the initial revision, so the next subset is accepted, not refused.
    expect(await version()).toBe('b4ed3a175331');
    const last = await run(
      'resource_classes',
      'traits',
      'users',
      'placement_aggregates',
      'resource_providers',
      'inventories',
      'resource_provider_aggregates',
      'resource_provider_traits',
    );
    expect(last.code, last.stdout).toBe(ExitCode.OK);
    expect(outcome(last)).toBe('migrated');
    expect(await version()).toBe('a082b8bb98d0');
    const again = await runCli([
      'migrate',
      '--source',
      SOURCE,
      '--target',
      target,
      '--apply',
      '--tables',
      'allocations',
    ]);
    expect(again.code).toBe(ExitCode.ALREADY_MIGRATED);
    expect(again.stdout).toContain('(1 table compared row by row');
  });
});
