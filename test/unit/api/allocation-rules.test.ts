import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pySetOrder } from '../../../src/api/ops/py-set.js';
import { DEFAULT_PLACEMENT_SETTINGS, readPlacementSettings } from '../../../src/api/placement-settings.js';
import { ConfigError } from '../../../src/errors/errors.js';

const PYTHON = '/usr/bin/python3';

describe("CPython's iteration order of a set of small integers (placement's resource class lists)", () => {
  it.each([
    [
      [0, 1, 2],
      [0, 1, 2],
    ],
    [
      [2, 1, 0],
      [0, 1, 2],
    ],
    // 10000 lands on slot 0 of 8; 0 then probes on to slot 1, 1 to slot 6.
    [
      [2, 10000, 0, 1],
      [10000, 0, 2, 1],
    ],
    [
      [5, 3, 5, 3],
      [3, 5],
    ],
  ])('set(%j) iterates as %j', (values, order) => {
    expect(pySetOrder(values)).toEqual(order);
  });

  it.runIf(existsSync(PYTHON))('agrees with Python on random sets, across table resizes', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const cases = Array.from({ length: 300 }, () =>
      Array.from({ length: 1 + (next() % 40) }, () => next() % (next() % 2 ? 20000 : 64)),
    );
    const python = JSON.parse(
      execFileSync(
        PYTHON,
        ['-c', 'import json,sys; print(json.dumps([list(set(c)) for c in json.load(sys.stdin)]))'],
        { input: JSON.stringify(cases) },
      ).toString(),
    ) as number[][];
    expect(cases.map(pySetOrder)).toEqual(python);
  });
});

describe('[placement] options of allocation writes', () => {
  const config = (options: Record<string, string[]>) =>
    new Map([['placement', new Map(Object.entries(options))]]);

  it("are placement's defaults when unset", () => {
    expect(readPlacementSettings(new Map())).toEqual(DEFAULT_PLACEMENT_SETTINGS);
  });

  it('take the last value of each option, and an int as Python reads it', () => {
    expect(
      readPlacementSettings(
        config({
          incomplete_consumer_project_id: ['a', 'b'],
          incomplete_consumer_user_id: ['u'],
          allocation_conflict_retry_count: ['3', ' +1_0 '],
        }),
      ),
    ).toEqual({
      incompleteConsumerProjectId: 'b',
      incompleteConsumerUserId: 'u',
      allocationConflictRetryCount: 10,
    });
    expect(
      readPlacementSettings(config({ allocation_conflict_retry_count: ['-1'] }))
        .allocationConflictRetryCount,
    ).toBe(-1);
  });

  it('refuse a retry count that is no integer', () => {
    expect(() => readPlacementSettings(config({ allocation_conflict_retry_count: ['ten'] }))).toThrow(
      ConfigError,
    );
  });
});
