import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ROLES } from './connections.js';
import { getOption, readOsloConfigFiles, type OsloConfig } from './oslo-ini.js';

/** The options of placement.conf, beyond the connection, that data migrations and checks honour. */
export interface PlacementOptions {
  /** The files read, in order (later ones win), as oslo.config's config_file. */
  configFiles: string[];
  /** [placement] incomplete_consumer_project_id, when set. */
  incompleteConsumerProjectId?: string;
  /** [placement] incomplete_consumer_user_id, when set. */
  incompleteConsumerUserId?: string;
  /** [oslo_policy] policy_file (or its deprecated [DEFAULT] spelling), when set. */
  policyFile?: string;
}

/**
 * The placement config files a command reads: --placement-config, else
 * PLACEMENT_UPGRADE_PLACEMENT_CONFIG, as for the connection itself.
 */
export function placementConfigFiles(
  flagFiles: readonly string[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  if (flagFiles && flagFiles.length > 0) return [...flagFiles];
  const fromEnv = env[ROLES.placement.configEnv];
  return fromEnv ? [fromEnv] : [];
}

const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v);

/** Reads the options from the files (none given: nothing set, every default applies). */
export function readPlacementOptions(files: readonly string[]): PlacementOptions {
  const config: OsloConfig = files.length > 0 ? readOsloConfigFiles(files) : new Map();
  return {
    configFiles: [...files],
    incompleteConsumerProjectId: nonEmpty(
      getOption(config, 'placement', 'incomplete_consumer_project_id'),
    ),
    incompleteConsumerUserId: nonEmpty(
      getOption(config, 'placement', 'incomplete_consumer_user_id'),
    ),
    policyFile: nonEmpty(
      getOption(config, 'oslo_policy', 'policy_file') ??
        getOption(config, 'DEFAULT', 'policy_file'),
    ),
  };
}

/**
 * Where oslo.config's find_file looks for a relative name (policy.json,
 * policy.d), in order: the config files' directories (the last file's
 * first), then ~/.placement, ~, /etc/placement, /etc.
 */
export function configSearchDirs(configFiles: readonly string[]): string[] {
  const home = homedir();
  return [
    ...[...configFiles].reverse().map((f) => dirname(resolve(f))),
    join(home, '.placement'),
    home,
    '/etc/placement',
    '/etc',
  ];
}
