#!/usr/bin/env node
// Passes the test run's log through unchanged except for vitest's closing
// summary block ("Test Files  74 passed", "Tests  1470 passed | 18 skipped",
// "Start at", "Duration") and its "JSON report written to" line. CI reads a
// log's closing lines for known test runners' summaries, and vitest's
// "Tests  N passed" looks enough like node's test runner's "tests N" (with
// no "pass N" after it) to be read as a run of no test. The totals that
// count are printed after this by scripts/test-totals.mjs, from the JSON
// report: nothing is lost.
// Usage: npm test ... 2>&1 | node scripts/ci-log-filter.mjs
import { createInterface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';

const summary = /^\s*(Test Files|Tests|Start at|Duration|Errors|Type Errors)\s{2}\S/;
const jsonNote = /^JSON report written to /;
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  const plain = stripVTControlCharacters(line);
  if (summary.test(plain) || jsonNote.test(plain)) continue;
  process.stdout.write(`${line}\n`);
}
