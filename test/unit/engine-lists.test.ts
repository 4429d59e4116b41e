/**
 * `PU_TEST_ENGINES=sqlite npm test` (the README's no-server path) must pass:
 * a suite over a list of engines that the run narrowed to nothing is
 * skipped, never "No test suite found".
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('suites over the engines of this run', () => {
  it('go through describeEach in every integration test file', () => {
    const dir = join(import.meta.dirname, '..', 'integration');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.test.ts'))
      .flatMap((f) =>
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .map((line, i) => ({ f, line, n: i + 1 }))
          .filter(({ line }) =>
            /describe\.each\(\s*(testEngines|engines|pairs|lockable|servers)\b/.test(line),
          ),
      )
      .map(({ f, n }) => `${f}:${n}`);
    expect(offenders).toEqual([]);
  });
});
