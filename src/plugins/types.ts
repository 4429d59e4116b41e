import type { UpgradeCheck } from '../checks/types.js';
import type { OnlineDataMigration } from '../data-migrations/types.js';

/**
 * What a plugin module exports as its default: upgrade checks and online
 * data migrations of its own, run after the built-in ones, in the order
 * given. Either list may be left out.
 */
export interface PlacementUpgradePlugin {
  /** How reports name the plugin; defaults to the package's name or the file's. */
  readonly name?: string;
  /** Run by `upgrade check` after the built-in checks; titles must not repeat a built-in one. */
  readonly checks?: readonly UpgradeCheck[];
  /** Run by `db online-data-migrations` after placement's own, batch by batch like them. */
  readonly onlineDataMigrations?: readonly OnlineDataMigration[];
}

/** Where plugins are loaded from: npm package names and directories. */
export interface PluginSources {
  /** Package names, resolved from the current directory upward, then from beside placement-upgrade. */
  packages: string[];
  /** Directories whose .js/.mjs files (and package subdirectories) are each a plugin. */
  dirs: string[];
}
