#!/usr/bin/env node
// Prints the plain totals line CI records ("tests: N passed, N failed, N
// skipped") from vitest's JSON report, and exits non-zero when any test
// failed, none ran, or vitest itself failed (a suite that could not load, a
// global setup that refused an unreachable server).
// Usage: node scripts/test-totals.mjs REPORT.json VITEST_EXIT_STATUS
import { existsSync, readFileSync } from 'node:fs';

const [reportPath, statusText = '0'] = process.argv.slice(2);
const status = Number(statusText);
let report = null;
if (reportPath && existsSync(reportPath)) {
  try {
    report = JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch (err) {
    console.error(`test-totals: ${reportPath} is not JSON (${err.message})`);
  }
}
const passed = report?.numPassedTests ?? 0;
// A suite that failed to load counts its file as one failure: it ran nothing.
const failedSuites = (report?.testResults ?? []).filter(
  (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
).length;
const failed = (report?.numFailedTests ?? 0) + failedSuites;
const skipped = (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0);
if (!report) console.error('test-totals: vitest wrote no report (it stopped before running tests)');
else if (status !== 0 && failed === 0)
  console.error(`test-totals: vitest exited ${status} although no test failed`);
if (report) {
  // What vitest's own summary said (scripts/ci-log-filter.mjs keeps it out of CI's log).
  const files = report.testResults ?? [];
  const ended = Math.max(report.startTime ?? 0, ...files.map((r) => r.endTime ?? 0));
  const seconds = report.startTime ? Math.round((ended - report.startTime) / 1000) : 0;
  console.log(`test files: ${files.length}, ${report.numTotalTests ?? 0} tests, ${seconds} s`);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
