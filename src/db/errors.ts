import { PermissionDeniedError } from '../errors/errors.js';
import type { Database } from './connect.js';

/**
 * Runs database work and turns a driver's "permission denied" into a typed
 * error naming the database and what was being done, so the operator sees
 * which grant is missing instead of a stack trace.
 */
export async function withDatabaseErrors<T>(
  database: Database,
  action: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (database.dialect.isPermissionError(err)) {
      // Drivers' own text (sqlMessage) is clearer than knex's "SQL - message".
      const e = err as { sqlMessage?: string; message?: string };
      const detail = e.sqlMessage ?? e.message ?? String(err);
      throw new PermissionDeniedError(
        `Permission denied while ${action} on ${database.display}: ${detail}`,
        `Grant the database user the privileges to create and alter tables in ${database.spec.database ?? 'this database'} (placement-manage needs the same).`,
        err,
      );
    }
    throw err;
  }
}
