import type { Database } from '../db/connect.js';
import { classifyDatabaseError } from '../db/errors.js';
import { ClusterError, errorMessage, PlacementUpgradeError, UsageError } from '../errors/errors.js';
import { NEWEST_RELEASE, RELEASES, releaseOf } from '../migrations/index.js';
import { getSchemaVersion } from '../schema/migrator.js';
import { discoverModules } from '../util/discover-modules.js';
import {
  CheckCode,
  type CheckCodeValue,
  type CheckContext,
  type CheckGate,
  type UpgradeCheck,
} from './types.js';

/** One line of the results: exactly the fields of oslo.upgradecheck's --json. */
export interface CheckOutcome {
  check: string;
  result: CheckCodeValue;
  details: string | null;
}

/** The whole run: what `upgrade check --json` prints, and the exit code (the worst result). */
export interface UpgradeCheckReport {
  name: 'Upgrade Check Results';
  checks: CheckOutcome[];
}

function isCheck(value: unknown): value is UpgradeCheck {
  const c = value as Partial<UpgradeCheck> | undefined;
  return typeof c?.title === 'string' && typeof c.run === 'function';
}

let cached: Promise<UpgradeCheck[]> | undefined;

/**
 * Every upgrade check, in the order they run: the numbered files of this
 * directory, each exporting one check as its default. placement's own three
 * come first, as placement-status lists them.
 */
export function upgradeChecks(): Promise<UpgradeCheck[]> {
  cached ??= discoverModules(new URL('.', import.meta.url), (exported, file) => {
    if (!isCheck(exported)) {
      throw new Error(`${file} does not export an upgrade check as its default export`);
    }
    return exported;
  });
  return cached;
}

/**
 * Runs the checks that apply, in order. A check that throws is that
 * check's failure, with its message; the others still run. A Galera node
 * outside the Primary Component stops them all (ClusterError): no check
 * could have run there.
 */
export async function runUpgradeChecks(
  context: CheckContext,
  checks?: readonly UpgradeCheck[],
): Promise<UpgradeCheckReport> {
  const outcomes: CheckOutcome[] = [];
  for (const check of checks ?? (await upgradeChecks())) {
    if (check.appliesTo && !check.appliesTo(context)) continue;
    try {
      const result = await check.run(context);
      outcomes.push({ check: check.title, result: result.code, details: result.details });
    } catch (err) {
      const typed = classifyDatabaseError(err, `running the ${check.title} check`);
      // A Galera node that takes no work answers no check: the checks could not run (255).
      if (typed instanceof ClusterError) {
        throw typed.withNodeState(
          (await context.database.dialect
            .clusterNodeState?.(context.database.knex)
            .catch(() => '')) ?? '',
        );
      }
      const message = typed?.message ?? errorMessage(err);
      outcomes.push({
        check: check.title,
        result: CheckCode.FAILURE,
        details: `The check could not run: ${message}`,
      });
    }
  }
  return { name: 'Upgrade Check Results', checks: outcomes };
}

/** The exit code: the worst result (0 with no checks). */
export function worstResult(report: UpgradeCheckReport): CheckCodeValue {
  return report.checks.reduce<CheckCodeValue>(
    (worst, c) => (c.result > worst ? c.result : worst),
    CheckCode.SUCCESS,
  );
}

/** What --checks calls a check: its name, else its title in kebab-case. */
export function checkName(check: UpgradeCheck): string {
  return (
    check.name ??
    check.title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
  );
}

/** A check's gate: advisory unless it says otherwise. */
export function checkGate(check: UpgradeCheck): CheckGate {
  return check.gate ?? 'advisory';
}

/** Which checks run, and which of them decide the exit code. */
export interface CheckSelection {
  checks: UpgradeCheck[];
  /** Titles of the checks whose results count toward the exit code. */
  counted: ReadonlySet<string>;
}

/**
 * Reads --checks: absent, every check runs and the placement and blocking
 * ones decide the exit code (placement-status's code unless something
 * stops placement); `placement`, placement's own only; `all`, every check,
 * all counted; or names (and those two words), each counted.
 */
export function selectChecks(
  all: readonly UpgradeCheck[],
  spec: string | undefined,
): CheckSelection {
  if (spec === undefined) {
    return {
      checks: [...all],
      counted: new Set(all.filter((c) => checkGate(c) !== 'advisory').map((c) => c.title)),
    };
  }
  const wanted = new Set<UpgradeCheck>();
  for (const word of spec
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== '')) {
    if (word === 'all') all.forEach((c) => wanted.add(c));
    else if (word === 'placement') {
      all.filter((c) => checkGate(c) === 'placement').forEach((c) => wanted.add(c));
    } else {
      const check = all.find((c) => checkName(c) === word);
      if (!check) {
        throw new UsageError(
          `--checks: "${word}" is not an upgrade check.`,
          `Give placement, all, or a comma-separated list of: ${all.map(checkName).join(', ')}.`,
        );
      }
      wanted.add(check);
    }
  }
  if (wanted.size === 0) {
    throw new UsageError('--checks names no check.', 'Give placement, all, or check names.');
  }
  const checks = all.filter((c) => wanted.has(c));
  return { checks, counted: new Set(checks.map((c) => c.title)) };
}

/** The exit code: the worst result of the checks that count. */
export function countedResult(
  report: UpgradeCheckReport,
  counted: ReadonlySet<string>,
): CheckCodeValue {
  return worstResult({ ...report, checks: report.checks.filter((c) => counted.has(c.check)) });
}

/**
 * The release a database is ready for, from its alembic revision: the first
 * release that shipped it (xena for 422ece571366, a cloud migrated with
 * --revision zed). A revision that is no release's head (an interrupted db
 * sync) gives the first release after it, so "Database Revision" names
 * what to sync to; no revision, or one this tool does not know, gives the
 * newest release. Returns where the answer came from, for the operator.
 */
export async function releaseForDatabase(
  database: Database,
): Promise<{ name: string; head: string; revision: string | null }> {
  let revision: string | null = null;
  try {
    revision = (await getSchemaVersion(database)).revision;
  } catch (err) {
    // Database Revision reports an unreadable revision itself.
    if (!(err instanceof PlacementUpgradeError)) throw err;
  }
  const since = revision === null ? undefined : releaseOf(revision);
  const release =
    (since === undefined ? undefined : RELEASES.find((r) => r.name === since)) ?? NEWEST_RELEASE;
  return { name: release.name, head: release.head, revision };
}
