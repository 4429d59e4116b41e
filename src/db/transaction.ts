import type { Knex } from 'knex';
import type { Database } from './connect.js';

/**
 * Runs `work` again when it failed only because a concurrent transaction
 * got in the way (deadlock, lock timeout, busy SQLite file), so that two
 * runs at the same time both finish cleanly. Any other error is thrown.
 */
export async function retryOnConflict<T>(
  database: Database,
  work: () => Promise<T>,
  attempts = 8,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !database.dialect.isTransientConflict(err)) throw err;
      // Back off a little, with jitter, so the two sides do not collide again.
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}

/** Runs `work` in its own transaction, committed on return, retried whole on a conflict. */
export function inRetriedTransaction<T>(
  database: Database,
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  return retryOnConflict(database, () => database.knex.transaction(work));
}
