/**
 * A generated nova_api source database for a test: created by the suite's
 * `fresh` (dropped after the file), filled by the fixture generator. Case
 * twins are off by default, because migrate refuses them into MySQL.
 */
import type { Engine } from '../../src/db/url.js';
import { generateNovaApi, type GenerateNovaApiOptions } from '../../src/fixtures/index.js';
import type { TestDatabase } from './databases.js';

export async function novaApiSource(
  fresh: (engine: Engine, prefix: string) => Promise<TestDatabase>,
  engine: Engine,
  prefix: string,
  options: GenerateNovaApiOptions,
): Promise<TestDatabase> {
  const source = await fresh(engine, prefix);
  const db = await source.open();
  try {
    await generateNovaApi(db, { ...options, flaws: { caseVariantNames: false, ...options.flaws } });
  } finally {
    await db.close();
  }
  return source;
}
