import { ConfigError } from '../errors/errors.js';
import { registerSecret } from '../errors/redact.js';
import { parseConnectionUrl, type ConnectionSpec } from '../db/url.js';
import { getOption, readOsloConfigFiles } from './oslo-ini.js';
import { SAMPLE_SOURCE_NAME, sampleSourceUrl } from './sample-source.js';

/** Which database a connection is for: placement's own, or nova's API database. */
export type DatabaseRole = 'placement' | 'nova';

interface RoleInfo {
  label: string;
  urlFlag: string;
  configFlag: string;
  section: string;
  urlEnv: string;
  passwordEnv: string;
  configEnv: string;
}

/** The names operators use for each role, in one place for help text, README and errors. */
export const ROLES: Record<DatabaseRole, RoleInfo> = {
  placement: {
    label: 'placement database',
    urlFlag: '--placement-url',
    configFlag: '--placement-config',
    section: 'placement_database',
    urlEnv: 'PLACEMENT_UPGRADE_PLACEMENT_URL',
    passwordEnv: 'PLACEMENT_UPGRADE_PLACEMENT_PASSWORD',
    configEnv: 'PLACEMENT_UPGRADE_PLACEMENT_CONFIG',
  },
  nova: {
    label: 'nova_api database',
    urlFlag: '--nova-url',
    configFlag: '--nova-config',
    section: 'api_database',
    urlEnv: 'PLACEMENT_UPGRADE_NOVA_URL',
    passwordEnv: 'PLACEMENT_UPGRADE_NOVA_PASSWORD',
    configEnv: 'PLACEMENT_UPGRADE_NOVA_CONFIG',
  },
};

export interface ConnectionInputs {
  /** The URL given on the command line, if any. */
  url?: string;
  /** The name of the URL flag as the user typed it (migrate calls it --source/--target). */
  urlFlagName?: string;
  /** Config files given on the command line, in order. */
  configFiles?: readonly string[];
  /** A connection from another source (the migrate rc file), below the environment, above config files. */
  fallback?: { url: string; origin: string; password?: string };
  env?: NodeJS.ProcessEnv;
}

/**
 * Decides which connection to use for a role. Precedence, highest first:
 * the URL flag; the URL environment variable; the config files (flag, else
 * the config environment variable). The password environment variable
 * fills in or replaces the password of a URL that came from the environment
 * or a config file; a password written in the URL flag itself wins.
 */
export function resolveConnection(role: DatabaseRole, inputs: ConnectionInputs): ConnectionSpec {
  const info = ROLES[role];
  const env = inputs.env ?? process.env;
  const passwordFromEnv = env[info.passwordEnv];
  registerSecret(passwordFromEnv);

  let spec: ConnectionSpec | undefined;
  let fromFlag = false;
  if (role === 'nova' && inputs.url === SAMPLE_SOURCE_NAME) {
    // The bundled demo data, by name, from any directory.
    spec = parseConnectionUrl(
      sampleSourceUrl(),
      `${inputs.urlFlagName ?? info.urlFlag} ${SAMPLE_SOURCE_NAME} (the bundled sample nova_api)`,
    );
    fromFlag = true;
  } else if (inputs.url !== undefined && inputs.url !== '') {
    spec = parseConnectionUrl(inputs.url, inputs.urlFlagName ?? info.urlFlag);
    fromFlag = true;
  } else if (env[info.urlEnv]) {
    spec = parseConnectionUrl(env[info.urlEnv]!, `the environment variable ${info.urlEnv}`);
  } else if (inputs.fallback) {
    spec = parseConnectionUrl(inputs.fallback.url, inputs.fallback.origin);
    if (inputs.fallback.password !== undefined) spec.password = inputs.fallback.password;
  } else {
    const files =
      inputs.configFiles && inputs.configFiles.length > 0
        ? inputs.configFiles
        : env[info.configEnv]
          ? [env[info.configEnv]!]
          : [];
    if (files.length > 0) {
      const config = readOsloConfigFiles(files);
      const url = getOption(config, info.section, 'connection');
      const where = `${files.join(', ')} [${info.section}] connection`;
      if (url === undefined || url.trim() === '') {
        throw new ConfigError(
          `No ${info.label} connection: ${files.length > 1 ? 'none of' : ''} ${files.join(', ')} ${files.length > 1 ? 'sets' : 'does not set'} [${info.section}] connection.`.replace(
            /\s+/g,
            ' ',
          ),
          `Add "connection = <url>" to the [${info.section}] section, or give ${info.urlFlag} / ${info.urlEnv}.`,
        );
      }
      spec = parseConnectionUrl(url, where);
    }
  }

  if (!spec) {
    throw new ConfigError(
      `No ${info.label} connection was given.`,
      `Give ${inputs.urlFlagName ?? info.urlFlag} URL, set ${info.urlEnv}, or point ${info.configFlag} (or ${info.configEnv}) at a config file with [${info.section}] connection. To try placement-upgrade without a server, use SQLite: ${inputs.urlFlagName ?? info.urlFlag} sqlite:///placement.sqlite`,
    );
  }
  if (
    passwordFromEnv !== undefined &&
    spec.engine !== 'sqlite' &&
    !(fromFlag && spec.password !== undefined)
  ) {
    spec.password = passwordFromEnv;
  }
  return spec;
}
