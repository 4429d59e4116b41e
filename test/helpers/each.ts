/**
 * describe.each for lists that depend on the engines of this run: with
 * PU_TEST_ENGINES narrowed (sqlite only, the README's no-server path) such a
 * list can be empty, and a file whose only suite is describe.each([]) fails
 * with "No test suite found". An empty list registers one skipped test that
 * says why, so the file reports "skipped" instead.
 */
import { describe, it } from 'vitest';

type Args<T> = T extends readonly unknown[] ? T : [T];

/** Like describe.each(cases), but an empty `cases` is a skipped suite, not an error. */
export function describeEach<T>(cases: readonly T[]) {
  return (title: string, fn: (...args: Args<T>) => void): void => {
    if (cases.length === 0) {
      const name = title.replace(/%[sdifjo]|\$\w+/g, '…');
      describe.skip(name, () => {
        it('needs an engine that PU_TEST_ENGINES left out', () => {});
      });
      return;
    }
    (describe.each as (c: readonly T[]) => (t: string, f: (...a: Args<T>) => void) => void)(cases)(
      title,
      fn,
    );
  };
}
