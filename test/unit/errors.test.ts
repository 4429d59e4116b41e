import { describe, expect, it } from 'vitest';
import { asPlacementUpgradeError, errorMessage } from '../../src/errors/errors.js';
import { ExitCode } from '../../src/errors/exit-codes.js';

describe('unexpected errors', () => {
  it('are internal errors (70) that keep a short message whole', () => {
    const typed = asPlacementUpgradeError(new Error('something odd'));
    expect(typed.exitCode).toBe(ExitCode.INTERNAL);
    expect(typed.message).toBe('something odd');
  });

  it("keep the driver's message of knex's '<SQL> - <message>', not the statement and its rows", () => {
    const rows = Array.from({ length: 2_000 }, (_, i) => `(${i}, 'consumer-${i}', 0, 1)`).join(
      ', ',
    );
    const typed = asPlacementUpgradeError(
      new Error(
        `INSERT INTO \`allocations\` VALUES ${rows} - Deadlock found when trying to get lock`,
      ),
    );
    expect(typed.message).toBe('Deadlock found when trying to get lock');
  });

  it('cut an overlong message in the middle, keeping its start and its end', () => {
    const long = `start ${'x'.repeat(5_000)} end`;
    const message = errorMessage(new Error(long));
    expect(message.length).toBeLessThan(600);
    expect(message).toMatch(/^start x+ … \[4510 characters omitted\] … x+ end$/);
  });
});
