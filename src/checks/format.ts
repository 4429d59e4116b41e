import { prettyTable } from '../text/pretty-table.js';
import { pythonJsonDumps } from '../text/python-json.js';
import { wrap } from '../text/textwrap.js';
import { CheckCode, type CheckCodeValue } from './types.js';
import type { UpgradeCheckReport } from './registry.js';

const RESULT_NAMES: Record<CheckCodeValue, string> = {
  [CheckCode.SUCCESS]: 'Success',
  [CheckCode.WARNING]: 'Warning',
  [CheckCode.FAILURE]: 'Failure',
};

/**
 * The results table exactly as oslo.upgradecheck prints it: one left-aligned
 * column, a rule after each check, details wrapped at 60 characters with
 * a two-space indent, "None" for no details.
 */
export function formatUpgradeCheckTable(report: UpgradeCheckReport): string {
  return prettyTable(
    [report.name],
    report.checks.map((c) => [
      `Check: ${c.check}\nResult: ${RESULT_NAMES[c.result]}\nDetails: ${
        c.details === null ? 'None' : wrap(c.details, 60, { subsequentIndent: '  ' }).join('\n')
      }`,
    ]),
    { align: 'l', hrules: 'all' },
  );
}

/** --json as oslo.upgradecheck prints it: Python's json.dumps on one line, details unwrapped. */
export function formatUpgradeCheckJson(report: UpgradeCheckReport): string {
  return pythonJsonDumps({
    name: report.name,
    checks: report.checks.map((c) => ({ check: c.check, result: c.result, details: c.details })),
  });
}
