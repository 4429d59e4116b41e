import { discoverModules } from '../util/discover-modules.js';
import type { OnlineDataMigration } from './types.js';

function isMigration(value: unknown): value is OnlineDataMigration {
  const m = value as Partial<OnlineDataMigration> | undefined;
  return typeof m?.name === 'string' && typeof m.start === 'function';
}

let cached: Promise<OnlineDataMigration[]> | undefined;

/**
 * Every online data migration, in the order placement-manage runs them:
 * the numbered files of this directory, each exporting one migration as
 * its default. Adding a migration is adding a file.
 */
export function onlineDataMigrations(): Promise<OnlineDataMigration[]> {
  cached ??= discoverModules(new URL('.', import.meta.url), (exported, file) => {
    if (!isMigration(exported)) {
      throw new Error(`${file} does not export an online data migration as its default export`);
    }
    return exported;
  });
  return cached;
}
