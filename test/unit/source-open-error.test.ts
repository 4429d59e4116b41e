import { describe, expect, it } from 'vitest';
import { sourceOpenError } from '../../src/copy/source.js';
import { ConnectionError, PlacementUpgradeError } from '../../src/errors/errors.js';
import { ExitCode } from '../../src/errors/exit-codes.js';

describe('what a failure to open the nova_api source means for migrate', () => {
  it('a server without the database: nothing to migrate (20), the cause kept', () => {
    const missing = new ConnectionError('database_missing', 'no nova_api on db:3306', 'Check it.');
    const err = sourceOpenError(missing, 'Try the sample.') as PlacementUpgradeError;
    expect(err.exitCode).toBe(ExitCode.SOURCE_HAS_NO_PLACEMENT);
    expect(err.code).toBe('source_missing');
    expect(err.message).toBe('no nova_api on db:3306');
    expect(err.hint).toMatch(/without nova/);
    expect(err.cause).toBe(missing);
  });

  it('a SQLite file that is not there: still "database missing", with the path hint added', () => {
    const missing = new ConnectionError(
      'database_missing',
      'no file',
      'Check the path.',
      undefined,
      {
        path: '/tmp/nova.sqlite',
      },
    );
    const err = sourceOpenError(missing, 'Try the sample.') as ConnectionError;
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.exitCode).toBe(missing.exitCode);
    expect(err.exitCode).not.toBe(ExitCode.SOURCE_HAS_NO_PLACEMENT);
    expect(err.hint).toBe('Check the path. Try the sample.');
  });

  it('any other failure as it is', () => {
    const refused = new ConnectionError('unreachable', 'refused');
    expect(sourceOpenError(refused, 'x')).toBe(refused);
    const other = new Error('boom');
    expect(sourceOpenError(other, 'x')).toBe(other);
  });
});
