/**
 * nova_api source databases for the benchmarks, built once per engine and
 * size with the fixture generator and shared by the cases that read them.
 */
import { openDatabase } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { generateNovaApi, type NovaApiSummary } from '../../src/fixtures/index.js';
import {
  dropDatabase,
  recreateDatabase,
  scratchName,
  urlFor,
  type ServerEngine,
} from './servers.js';

/** The release operators migrated from when placement left nova. */
export const BENCH_RELEASE = 'rocky';

export interface Source {
  engine: ServerEngine;
  name: string;
  url: string;
  summary: NovaApiSummary;
  /** Wall-clock ms the generator took (the fixture figure BENCHMARKS.md reports). */
  generateMs: number;
}

const cache = new Map<string, Promise<Source>>();

/** A generated nova_api with at least `allocations` allocation rows, shared by every case of the run. */
export function acquireSource(
  engine: ServerEngine,
  allocations: number,
  log: (m: string) => void,
): Promise<Source> {
  const key = `${engine}:${allocations}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const source = (async () => {
    const name = scratchName(`nova_${engine === 'mysql' ? 'my' : 'pg'}`);
    await recreateDatabase(engine, name);
    const url = urlFor(engine, name);
    const db = await openDatabase(parseConnectionUrl(url, 'benchmark source'), { max: 1 });
    try {
      log(
        `Generating a ${BENCH_RELEASE} nova_api with ${allocations} allocations on ${engine} (${name})`,
      );
      const started = performance.now();
      // Case twins collide under a case-insensitive target collation, which
      // migrate refuses by design; every other flaw of the release stays.
      const summary = await generateNovaApi(db, {
        release: BENCH_RELEASE,
        allocations,
        seed: 1,
        flaws: { caseVariantNames: false },
      });
      const generateMs = performance.now() - started;
      log(
        `  ${summary.allocations} allocations, ${summary.instances} instances, ${summary.providers.total} providers in ${(generateMs / 1000).toFixed(1)} s`,
      );
      return { engine, name, url, summary, generateMs };
    } finally {
      await db.close();
    }
  })();
  cache.set(key, source);
  return source;
}

/** Drops every source database; the harness calls it once, at the end of the run. */
export async function dropAllSources(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const pending of all) {
    const source = await pending.catch(() => null);
    if (source) await dropDatabase(source.engine, source.name).catch(() => undefined);
  }
}
