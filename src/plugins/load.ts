import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CheckCode, type UpgradeCheck } from '../checks/types.js';
import type { OnlineDataMigration } from '../data-migrations/types.js';
import { ConfigError, errorMessage } from '../errors/errors.js';
import { getOption, readOsloConfigFiles } from '../config/oslo-ini.js';
import type { PlacementUpgradePlugin, PluginSources } from './types.js';

/** The placement.conf section and options that name plugins, beside the flags. */
export const PLUGIN_CONFIG = {
  section: 'placement_upgrade',
  packages: 'plugins',
  dirs: 'plugin_dirs',
} as const;

/** How long one plugin check or one plugin migration batch may run before it is that plugin's failure. */
export const DEFAULT_PLUGIN_TIMEOUT_SECONDS = 300;

/** One plugin as loaded: its checks and migrations, already isolated, or why it could not load. */
export interface LoadedPlugin {
  name: string;
  /** The file or package it came from. */
  from: string;
  checks: UpgradeCheck[];
  onlineDataMigrations: OnlineDataMigration[];
  /** Set when the plugin could not be loaded; its checks and migrations then report it. */
  error?: string;
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * The plugins to load: the flags first, then [placement_upgrade] plugins and
 * plugin_dirs of the placement config files (directories there are relative
 * to the file that names them).
 */
export function pluginSources(
  flags: { plugin?: readonly string[]; 'plugin-dir'?: readonly string[] },
  configFiles: readonly string[],
): PluginSources {
  const packages = [...(flags.plugin ?? [])];
  const dirs = (flags['plugin-dir'] ?? []).map((d) => resolve(d));
  for (const file of configFiles) {
    const config = readOsloConfigFiles([file]);
    packages.push(...list(getOption(config, PLUGIN_CONFIG.section, PLUGIN_CONFIG.packages)));
    dirs.push(
      ...list(getOption(config, PLUGIN_CONFIG.section, PLUGIN_CONFIG.dirs)).map((d) =>
        resolve(dirname(resolve(file)), d),
      ),
    );
  }
  return { packages: [...new Set(packages)], dirs: [...new Set(dirs)] };
}

/** A package's directory, found as Node would: node_modules/<name> in `from` or any parent. */
function findPackageDir(name: string, from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The ESM entry of a package directory: exports["."] (import/default), else main, else index.js. */
function packageEntry(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    exports?: unknown;
    main?: string;
  };
  let entry: unknown = pkg.exports;
  if (entry && typeof entry === 'object' && '.' in entry)
    entry = (entry as Record<string, unknown>)['.'];
  while (entry && typeof entry === 'object') {
    const conditions = entry as Record<string, unknown>;
    entry = conditions['import'] ?? conditions['default'] ?? conditions['node'];
  }
  return join(dir, typeof entry === 'string' ? entry : (pkg.main ?? 'index.js'));
}

function packageName(dir: string): string {
  try {
    return (
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name ??
      basename(dir)
    );
  } catch {
    return basename(dir);
  }
}

/** The plugin files and package directories of a plugin directory, in name order. */
function dirEntries(dir: string): { name: string; file: string }[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigError(
      `The plugin directory ${dir} does not exist or is not a directory.`,
      'Check --plugin-dir, or [placement_upgrade] plugin_dirs in the placement config.',
    );
  }
  const entries: { name: string; file: string }[] = [];
  for (const f of readdirSync(dir).sort()) {
    const path = join(dir, f);
    if (/\.(m?js)$/.test(f) && statSync(path).isFile()) {
      entries.push({ name: f.replace(/\.m?js$/, ''), file: path });
    } else if (statSync(path).isDirectory() && existsSync(join(path, 'package.json'))) {
      entries.push({ name: packageName(path), file: packageEntry(path) });
    }
  }
  return entries;
}

/** Rejects after `seconds`, so that a plugin that never answers is its own failure, not the run's. */
function withTimeout<T>(work: () => Promise<T>, seconds: number, what: string): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `${what} did not finish within ${seconds} s (a plugin's limit, --plugin-timeout)`,
          ),
        ),
      seconds * 1000,
    );
    timer.unref();
    Promise.resolve()
      .then(work)
      .then(resolvePromise, reject)
      .finally(() => clearTimeout(timer));
  });
}

function isCheck(value: unknown): value is UpgradeCheck {
  const c = value as Partial<UpgradeCheck> | undefined;
  return typeof c?.title === 'string' && typeof c.run === 'function';
}

function isMigration(value: unknown): value is OnlineDataMigration {
  const m = value as Partial<OnlineDataMigration> | undefined;
  return typeof m?.name === 'string' && typeof m.start === 'function';
}

/** A plugin check that runs within the time limit and says whose it is when it fails. */
function isolateCheck(check: UpgradeCheck, plugin: string, seconds: number): UpgradeCheck {
  return {
    title: check.title,
    appliesTo: check.appliesTo
      ? (context) => {
          try {
            return check.appliesTo!(context);
          } catch {
            return true; // then run() reports what is wrong
          }
        }
      : undefined,
    run: (context) =>
      withTimeout(() => check.run(context), seconds, `The check of plugin ${plugin}`).catch(
        (err: unknown) => {
          throw new Error(`plugin ${plugin}: ${errorMessage(err)}`, { cause: err });
        },
      ),
  };
}

/** A plugin migration whose start and batches run within the time limit, failures named by plugin. */
function isolateMigration(
  m: OnlineDataMigration,
  plugin: string,
  seconds: number,
): OnlineDataMigration {
  return {
    name: m.name,
    summary: m.summary,
    start(context) {
      let batch: ReturnType<OnlineDataMigration['start']> | undefined;
      return (size) =>
        withTimeout(
          async () => {
            batch ??= m.start(context);
            const result = await batch(size);
            if (typeof result?.found !== 'number' || typeof result.done !== 'number') {
              throw new Error('its batch did not return { found, done }');
            }
            return result;
          },
          seconds,
          `A batch of plugin ${plugin}`,
        ).catch((err: unknown) => {
          throw new Error(`plugin ${plugin}: ${errorMessage(err)}`, { cause: err });
        });
    },
  };
}

/** What a plugin that cannot load contributes: one failing check, and one failing migration. */
function brokenPlugin(name: string, from: string, error: string): LoadedPlugin {
  const message = `The plugin ${name} (${from}) could not be loaded: ${error}`;
  return {
    name,
    from,
    error,
    checks: [
      {
        title: `Plugin ${name}`,
        // The operator asked for this plugin: that it cannot run fails the run.
        gate: 'blocking',
        run: () => Promise.resolve({ code: CheckCode.FAILURE, details: message }),
      },
    ],
    onlineDataMigrations: [
      {
        name: `plugin ${name}`,
        summary: message,
        start: () => () => Promise.reject(new Error(message)),
      },
    ],
  };
}

async function loadOne(
  name: string,
  file: string,
  seconds: number,
  taken: { checks: Set<string>; migrations: Set<string> },
): Promise<LoadedPlugin> {
  let exported: unknown;
  try {
    if (!existsSync(file)) throw new Error(`its entry ${file} does not exist`);
    const mod = (await withTimeout(
      () => import(pathToFileURL(file).href) as Promise<{ default?: unknown }>,
      seconds,
      `Loading plugin ${name}`,
    )) as { default?: unknown };
    exported = mod.default;
  } catch (err) {
    return brokenPlugin(name, file, errorMessage(err));
  }
  const plugin = exported as PlacementUpgradePlugin | undefined;
  if (!plugin || typeof plugin !== 'object') {
    return brokenPlugin(
      name,
      file,
      'its default export is not a plugin ({ checks, onlineDataMigrations })',
    );
  }
  const shown = typeof plugin.name === 'string' && plugin.name !== '' ? plugin.name : name;
  const checks = plugin.checks ?? [];
  const migrations = plugin.onlineDataMigrations ?? [];
  if (!Array.isArray(checks) || !checks.every(isCheck)) {
    return brokenPlugin(shown, file, 'checks must be a list of { title, run }');
  }
  if (!Array.isArray(migrations) || !migrations.every(isMigration)) {
    return brokenPlugin(
      shown,
      file,
      'onlineDataMigrations must be a list of { name, summary, start }',
    );
  }
  const dupCheck = checks.find((c) => taken.checks.has(c.title));
  if (dupCheck)
    return brokenPlugin(shown, file, `a check titled "${dupCheck.title}" exists already`);
  const dupMigration = migrations.find((m) => taken.migrations.has(m.name));
  if (dupMigration) {
    return brokenPlugin(
      shown,
      file,
      `an online data migration named ${dupMigration.name} exists already`,
    );
  }
  checks.forEach((c) => taken.checks.add(c.title));
  migrations.forEach((m) => taken.migrations.add(m.name));
  return {
    name: shown,
    from: file,
    checks: checks.map((c) => isolateCheck(c, shown, seconds)),
    onlineDataMigrations: migrations.map((m) => isolateMigration(m, shown, seconds)),
  };
}

/**
 * Loads the plugins named by `sources`, packages first, then directories.
 * A plugin that fails to load, exports the wrong shape or repeats a name
 * becomes one failing check and one failing migration of its own; the
 * others load and run. Names already `taken` (the built-ins') are refused.
 */
export async function loadPlugins(
  sources: PluginSources,
  options: {
    timeoutSeconds?: number;
    cwd?: string;
    taken?: { checks: readonly string[]; migrations: readonly string[] };
  } = {},
): Promise<LoadedPlugin[]> {
  const seconds = options.timeoutSeconds ?? DEFAULT_PLUGIN_TIMEOUT_SECONDS;
  const cwd = options.cwd ?? process.cwd();
  const taken = {
    checks: new Set(options.taken?.checks ?? []),
    migrations: new Set(options.taken?.migrations ?? []),
  };
  const here = dirname(fileURLToPath(import.meta.url));
  const loaded: LoadedPlugin[] = [];
  for (const name of sources.packages) {
    const dir = findPackageDir(name, cwd) ?? findPackageDir(name, here);
    if (!dir) {
      loaded.push(
        brokenPlugin(
          name,
          name,
          `no package ${name} is installed in ${cwd} or beside placement-upgrade (npm install ${name})`,
        ),
      );
      continue;
    }
    loaded.push(await loadOne(name, packageEntry(dir), seconds, taken));
  }
  for (const dir of sources.dirs) {
    for (const entry of dirEntries(dir))
      loaded.push(await loadOne(entry.name, entry.file, seconds, taken));
  }
  return loaded;
}
