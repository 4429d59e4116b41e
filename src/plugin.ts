/**
 * The interface for placement-upgrade plugins, imported as
 * "placement-upgrade/plugin": the shapes of an upgrade check and an online
 * data migration, the result helpers, and definePlugin for type checking.
 * See docs/plugins.md.
 */
export type { PlacementUpgradePlugin } from './plugins/types.js';
export {
  CheckCode,
  failure,
  plural,
  success,
  warning,
  type CheckCodeValue,
  type CheckContext,
  type CheckResult,
  type UpgradeCheck,
} from './checks/types.js';
export type {
  BatchResult,
  DataMigrationContext,
  MigrationBatch,
  OnlineDataMigration,
  Unfixable,
} from './data-migrations/types.js';
export type { Database } from './db/connect.js';

import type { PlacementUpgradePlugin } from './plugins/types.js';

/** Returns the plugin as given: it exists so that an editor and tsc check the plugin's shape. */
export function definePlugin(plugin: PlacementUpgradePlugin): PlacementUpgradePlugin {
  return plugin;
}
