import { classifyDatabaseError } from '../db/errors.js';
import { errorMessage } from '../errors/errors.js';
import { discoverModules } from '../util/discover-modules.js';
import { CheckCode, type CheckCodeValue, type CheckContext, type UpgradeCheck } from './types.js';

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
 * check's failure, with its message; the others still run.
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
      const message =
        classifyDatabaseError(err, `running the ${check.title} check`)?.message ??
        errorMessage(err);
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
