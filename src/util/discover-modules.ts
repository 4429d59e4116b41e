import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A plug-in file: three digits that fix its order, then a kebab-case name (`010-set-root-provider-ids.ts`). */
const PLUGIN_FILE = /^(\d{3})-([a-z0-9]+(?:-[a-z0-9]+)*)\.(?:js|ts)$/;

/**
 * Loads every numbered module of a directory, in file-name order, so that
 * adding an online data migration or an upgrade check is adding one file.
 * `pick` validates a module's default export; a file that does not export
 * what it should is a bug, reported with its name.
 */
export async function discoverModules<T>(
  directory: URL,
  pick: (exported: unknown, file: string) => T,
): Promise<T[]> {
  const dir = fileURLToPath(directory);
  const files = readdirSync(dir)
    .filter((f) => PLUGIN_FILE.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const loaded: T[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default?: unknown };
    loaded.push(pick(mod.default, file));
  }
  return loaded;
}
