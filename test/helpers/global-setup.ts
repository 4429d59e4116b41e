/**
 * Probes the database servers once before the integration tests. In CI (or
 * with PU_REQUIRE_SERVERS=1) an unreachable server fails the run; on a
 * laptop its suites are skipped, with a loud banner saying so.
 */
import type { TestProject } from 'vitest/node';
import { parseConnectionUrl } from '../../src/db/url.js';
import { openDatabase } from '../../src/db/connect.js';
import type { Engine } from '../../src/db/url.js';
import { ADMIN_URLS, requestedEngines } from './servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    engines: Engine[];
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const required = process.env['CI'] === 'true' || process.env['PU_REQUIRE_SERVERS'] === '1';
  const engines: Engine[] = [];
  const missing: string[] = [];
  for (const engine of requestedEngines()) {
    if (engine === 'sqlite') {
      engines.push(engine);
      continue;
    }
    try {
      const db = await openDatabase(parseConnectionUrl(ADMIN_URLS[engine], 'test setup'), {
        max: 1,
        connectTimeoutSeconds: 5,
      });
      await db.close();
      engines.push(engine);
    } catch (err) {
      missing.push(
        `${engine} (${ADMIN_URLS[engine].replace(/:[^:@/]*@/, ':***@')}): ${(err as Error).message}`,
      );
    }
  }
  if (missing.length > 0) {
    const banner = [
      '',
      '!'.repeat(78),
      `!! Database servers unreachable — their integration suites will ${required ? 'FAIL' : 'be SKIPPED'}:`,
      ...missing.map((m) => `!!   ${m}`),
      '!! Start them (see README, "Running the tests") or set PU_TEST_ENGINES=sqlite.',
      '!'.repeat(78),
      '',
    ].join('\n');
    process.stderr.write(`${banner}\n`);
    if (required)
      throw new Error(`Required database servers are unreachable: ${missing.join('; ')}`);
  }
  project.provide('engines', engines);
}
