import { describe, expect, it } from 'vitest';
import { checkGate, checkName, selectChecks, upgradeChecks } from '../../src/checks/registry.js';
import { onlineDataMigrations } from '../../src/data-migrations/registry.js';
import { parseMaxCount } from '../../src/data-migrations/runner.js';
import { UsageError } from '../../src/errors/errors.js';

describe('plug-in registries', () => {
  it('online data migrations run in placement-manage order', async () => {
    expect((await onlineDataMigrations()).map((m) => m.name)).toEqual([
      'set_root_provider_ids',
      'create_incomplete_consumers',
    ]);
  });

  it("upgrade checks: placement-status's three first, then ours", async () => {
    expect((await upgradeChecks()).map((c) => c.title)).toEqual([
      'Missing Root Provider IDs',
      'Incomplete Consumers',
      'Policy File JSON to YAML Migration',
      'Unfinished Migration',
      'Database Revision',
      'Orphaned Records',
      'Capacity Exceeded',
      'Inventory Constraints',
      'Standard Traits and Resource Classes',
      'Nova-era Leftovers',
      'Source Parity',
    ]);
  });
});

describe('--checks: which checks run and which decide the exit code', () => {
  it("placement-status's three are placement's; the blocking ones are those that stop placement", async () => {
    const checks = await upgradeChecks();
    const by = (gate: string) => checks.filter((c) => checkGate(c) === gate).map(checkName);
    expect(by('placement')).toEqual([
      'missing-root-provider-ids',
      'incomplete-consumers',
      'policy-file-json-to-yaml-migration',
    ]);
    expect(by('blocking')).toEqual(['unfinished-migration', 'database-revision', 'source-parity']);
    expect(checkGate({ title: 'A Plugin', run: () => Promise.reject(new Error()) })).toBe(
      'advisory',
    );
  });

  it('default: all run, advisory not counted; all/placement/names: what runs counts', async () => {
    const checks = await upgradeChecks();
    const byDefault = selectChecks(checks, undefined);
    expect(byDefault.checks).toHaveLength(checks.length);
    expect(byDefault.counted.has('Orphaned Records')).toBe(false);
    expect(byDefault.counted.has('Database Revision')).toBe(true);
    expect(selectChecks(checks, 'all').counted.size).toBe(checks.length);
    expect(selectChecks(checks, 'placement').checks.map((c) => c.title)).toEqual([
      'Missing Root Provider IDs',
      'Incomplete Consumers',
      'Policy File JSON to YAML Migration',
    ]);
    const named = selectChecks(checks, ' Orphaned-Records , database-revision');
    expect(named.checks.map((c) => c.title)).toEqual(['Database Revision', 'Orphaned Records']);
    expect([...named.counted]).toEqual(['Database Revision', 'Orphaned Records']);
    expect(() => selectChecks(checks, 'nope')).toThrow(UsageError);
    expect(() => selectChecks(checks, ' , ')).toThrow(UsageError);
  });
});

describe('parseMaxCount, as Python int() and placement-manage take it', () => {
  it.each([
    ['1', 1],
    ['50', 50],
    [' 7 ', 7],
    ['+3', 3],
    ['1_000', 1000],
  ])('%j is %d', (text, n) => expect(parseMaxCount(text)).toBe(n));

  it.each(['0', '-1', 'abc', '1.5', '', '1e3', '0x10', '1e20', '100000000000000000000'])(
    '%j is refused',
    (text) => {
      expect(() => parseMaxCount(text)).toThrow(UsageError);
    },
  );

  it.each([
    ['-1', /positive value/],
    ['1e20', /must be a whole number, and "1e20" is not one/],
    ['100000000000000000000', /too large: at most 9007199254740991/],
  ])('%j says what is wrong with it', (text, message) => {
    expect(() => parseMaxCount(text)).toThrow(message);
  });

  it('absent means "batches of 50 until complete"', () => {
    expect(parseMaxCount(undefined)).toBeUndefined();
  });
});
