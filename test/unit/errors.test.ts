import { describe, expect, it } from 'vitest';
import { asPlacementUpgradeError } from '../../src/errors/errors.js';
import { ExitCode } from '../../src/errors/exit-codes.js';

describe('unexpected errors', () => {
  it('are internal errors (70) that keep a short message whole', () => {
    const typed = asPlacementUpgradeError(new Error('something odd'));
    expect(typed.exitCode).toBe(ExitCode.INTERNAL);
    expect(typed.message).toBe('something odd');
  });

  it("shorten knex's '<SQL> - <message>' of a batch insert to its start and the driver's message", () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => `(${i}, 'consumer-${i}', 0, 1)`).join(
      ', ',
    );
    const typed = asPlacementUpgradeError(
      new Error(
        `INSERT INTO \`allocations\` VALUES ${rows} - Deadlock found when trying to get lock`,
      ),
    );
    expect(typed.message.length).toBeLessThan(600);
    expect(typed.message).toMatch(/^INSERT INTO `allocations` VALUES \(0, /);
    expect(typed.message).toMatch(
      /characters omitted\] … .* - Deadlock found when trying to get lock$/,
    );
  });
});
