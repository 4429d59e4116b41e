/**
 * What `api serve` reads from placement.conf beyond the connection: the
 * [oslo_policy] options with the policy files they name, and [cors]. Read
 * once at start-up; the policy files are then watched as oslo.policy
 * watches them.
 */
import { isAbsolute } from 'node:path';
import { readOsloConfigFileValues } from '../config/oslo-ini.js';
import { configSearchDirs } from '../config/placement-options.js';
import { readCorsOptions, type CorsOptions } from './cors.js';
import { readPlacementSettings, type PlacementSettings } from './placement-settings.js';
import {
  loadServingPolicy,
  readPolicyOptions,
  type PolicyNotice,
  type ServingPolicy,
} from './policy/index.js';

export interface ServeConfig {
  policy: ServingPolicy;
  cors?: CorsOptions;
  /** placement.conf's [placement] options. */
  settings: PlacementSettings;
  /** One line on the policy in force, for the start-up message. */
  policySummary: string;
}

/** Reads the config files (none: every default applies) and loads the policy they name. */
export function loadServeConfig(
  configFiles: readonly string[],
  onPolicyReload: (notices: PolicyNotice[], error?: Error) => void,
): ServeConfig {
  const values = configFiles.length > 0 ? readOsloConfigFileValues(configFiles) : new Map();
  const options = readPolicyOptions(values, configSearchDirs(configFiles));
  const policy = loadServingPolicy(options, onPolicyReload);
  const named = ['oslo_policy', 'DEFAULT'].some((g) => values.get(g)?.has('policy_file'));
  if (named && policy.sources.file === undefined) {
    policy.warnings.unshift(
      `the policy file ${options.policyFile} ([oslo_policy] policy_file) ${isAbsolute(options.policyFile) ? 'does not exist' : `is in none of ${options.searchDirs.join(', ')}`}: placement's defaults apply until it appears.`,
    );
  }
  const files = policy.sources.files;
  const flags = [
    options.enforceScope ? 'enforce_scope' : null,
    options.enforceNewDefaults ? 'enforce_new_defaults' : null,
  ].filter(Boolean);
  const policySummary = `Policy: ${files.length > 0 ? files.join(', ') : "placement's defaults"}${flags.length > 0 ? ` (${flags.join(', ')})` : ''}.`;
  return {
    policy,
    cors: readCorsOptions(values),
    settings: readPlacementSettings(values),
    policySummary,
  };
}
