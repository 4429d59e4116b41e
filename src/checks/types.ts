import type { PlacementOptions } from '../config/placement-options.js';
import type { Database } from '../db/connect.js';

/** oslo.upgradecheck's result codes; a run exits with the worst one. */
export const CheckCode = {
  SUCCESS: 0,
  WARNING: 1,
  FAILURE: 2,
} as const;

export type CheckCodeValue = (typeof CheckCode)[keyof typeof CheckCode];

/** What a check returns: a code, and for anything but success what the operator should do. */
export interface CheckResult {
  code: CheckCodeValue;
  /** Plain text, wrapped at 60 columns when printed; null prints as "None". */
  details: string | null;
}

/** Everything a check may look at. Checks only read. */
export interface CheckContext {
  /** The placement database. */
  readonly database: Database;
  /** The placement release the database must be ready for (--release), with its head revision. */
  readonly release: { readonly name: string; readonly head: string };
  /** placement.conf options (policy file …), from --placement-config. */
  readonly placementOptions: PlacementOptions;
  /**
   * Where oslo.config looks for a file named relative to the config
   * (policy.yaml …), in its order: the config files' directories, last
   * file first, then ~/.placement, ~, /etc/placement, /etc.
   */
  readonly configSearchDirs: readonly string[];
  /** The nova_api database, for checks that compare with the source (given with --source). */
  readonly source?: Database;
}

/**
 * How a check's result counts toward the exit code of a run without
 * --checks: `placement` (placement-status's own checks) and `blocking`
 * (what stops placement or its upgrade: the exit code can reach Failure)
 * always count; `advisory` checks (data placement serves anyway) show their
 * findings but count only when --checks names them or says `all`.
 */
export type CheckGate = 'placement' | 'blocking' | 'advisory';

/** One upgrade check: a title as it appears in the results table, and the check itself. */
export interface UpgradeCheck {
  /** Printed as "Check: <title>"; playbooks match on it, so it never changes. */
  readonly title: string;
  /** What --checks calls it (default: the title in kebab-case, e.g. orphaned-records). */
  readonly name?: string;
  /** Whether its result counts toward the exit code by default (default: advisory). */
  readonly gate?: CheckGate;
  /** Checks that need an optional input (e.g. --source) leave themselves out without it. */
  appliesTo?(context: CheckContext): boolean;
  run(context: CheckContext): Promise<CheckResult>;
}

export const success = (): CheckResult => ({ code: CheckCode.SUCCESS, details: null });
export const warning = (details: string): CheckResult => ({ code: CheckCode.WARNING, details });
export const failure = (details: string): CheckResult => ({ code: CheckCode.FAILURE, details });

/** "1 row" / "3 rows". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
