/**
 * No statement is sent on a PostgreSQL connection that is still running one:
 * pg deprecates it ("Calling client.query() when the client is already
 * executing a query is deprecated"), and prints a DeprecationWarning into the
 * operator's output. fixtures generate loads many tables in one transaction.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { runCli } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const d of databases) await d.drop();
});

describe.runIf(testEngines().includes('postgresql'))('one query at a time on a pg client', () => {
  it('fixtures generate prints no DeprecationWarning', async () => {
    const d = await createTestDatabase('postgresql', 'pu_pgq');
    databases.push(d);
    const r = await runCli([
      'fixtures',
      'generate',
      '--target',
      d.url,
      '--release',
      'rocky',
      '--providers',
      '100',
      '--consumers',
      '3000',
    ]);
    expect(r.code, r.stderr).toBe(ExitCode.OK);
    expect(r.stderr).not.toContain('DeprecationWarning');
    expect(r.stderr).not.toContain('already executing a query');
  });
});
