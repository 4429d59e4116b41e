/**
 * The [oslo_policy] options of placement.conf, with oslo.policy's defaults
 * as placement-api runs them: placement registers oslo.policy's options
 * without changing their defaults, so policy_file is policy.json (Debian's
 * placement-api reads policy.json, not policy.yaml, unless told), and
 * policy_dirs is policy.d. The three file options also read from [DEFAULT]
 * (their deprecated group).
 */
import { ConfigError } from '../../errors/errors.js';
import type { OsloConfigValues } from '../../config/oslo-ini.js';

export interface PolicyOptions {
  /** [oslo_policy] policy_file: a path, or a name looked up in `searchDirs`. */
  policyFile: string;
  /** [oslo_policy] policy_dirs: directories whose files override the policy file, in order. */
  policyDirs: string[];
  /** [oslo_policy] policy_default_rule: the rule a `rule:NAME` of an undefined NAME falls back to. */
  defaultRule: string;
  /** [oslo_policy] enforce_scope: refuse a token whose scope the operation's scope_types lack. */
  enforceScope: boolean;
  /** [oslo_policy] enforce_new_defaults: drop the deprecated `role:admin` alternative of the defaults. */
  enforceNewDefaults: boolean;
  /** Where relative names are looked up, in order (oslo.config's find_file). */
  searchDirs: string[];
}

export const DEFAULT_POLICY_OPTIONS: Omit<PolicyOptions, 'searchDirs'> = {
  policyFile: 'policy.json',
  policyDirs: ['policy.d'],
  defaultRule: 'default',
  enforceScope: false,
  enforceNewDefaults: false,
};

const GROUP = 'oslo_policy';

/** Every value an option has in [oslo_policy] or, for the file options, its deprecated [DEFAULT]. */
function values(config: OsloConfigValues, name: string, deprecatedDefault: boolean): string[] {
  const own = config.get(GROUP)?.get(name) ?? [];
  const old = deprecatedDefault ? (config.get('DEFAULT')?.get(name) ?? []) : [];
  return [...old, ...own];
}

/** oslo.config's BoolOpt. */
export function parseOsloBool(value: string, where: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'on', 'yes'].includes(v)) return true;
  if (['false', '0', 'off', 'no'].includes(v)) return false;
  throw new ConfigError(
    `${where} = ${value} is not a boolean.`,
    'Write true or false (oslo.config also takes yes/no, on/off, 1/0).',
  );
}

/** Reads the [oslo_policy] options from the parsed config files. */
export function readPolicyOptions(config: OsloConfigValues, searchDirs: string[]): PolicyOptions {
  const last = (name: string, deprecatedDefault: boolean) => {
    const own = config.get(GROUP)?.get(name);
    if (own && own.length > 0) return own[own.length - 1];
    const old = deprecatedDefault ? config.get('DEFAULT')?.get(name) : undefined;
    return old && old.length > 0 ? old[old.length - 1] : undefined;
  };
  const bool = (name: string) => {
    const v = last(name, false);
    return v === undefined ? false : parseOsloBool(v, `[${GROUP}] ${name}`);
  };
  const policyFile = last('policy_file', true);
  if (policyFile !== undefined && policyFile.trim() === '') {
    throw new ConfigError(
      `[${GROUP}] policy_file is set but empty.`,
      'Name the policy file (placement reads policy.json beside placement.conf when the option is not set), or remove the option.',
    );
  }
  const dirs = values(config, 'policy_dirs', true);
  return {
    policyFile: policyFile ?? DEFAULT_POLICY_OPTIONS.policyFile,
    policyDirs: dirs.length > 0 ? dirs : DEFAULT_POLICY_OPTIONS.policyDirs,
    defaultRule: last('policy_default_rule', true) ?? DEFAULT_POLICY_OPTIONS.defaultRule,
    enforceScope: bool('enforce_scope'),
    enforceNewDefaults: bool('enforce_new_defaults'),
    searchDirs,
  };
}
