import type { Knex } from 'knex';

/**
 * Runs `work` on one connection of the pool, held for it alone. When the
 * work fails the connection is closed, not handed back: a Galera node that
 * left the Primary Component mid-statement can leave the failed statement's
 * transaction open on it (even ROLLBACK is refused there), holding its rows'
 * locks and showing its uncommitted rows to whatever reads on it next. The
 * server rolls back what a closed session left; the pool opens another.
 */
export async function onOneConnection<T>(
  pool: Knex,
  work: (conn: unknown) => Promise<T>,
): Promise<T> {
  const client = pool.client as {
    acquireConnection(): Promise<unknown>;
    releaseConnection(conn: unknown): Promise<void>;
  };
  const conn = await client.acquireConnection();
  try {
    return await work(conn);
  } catch (err) {
    (conn as { destroy?: () => void }).destroy?.();
    throw err;
  } finally {
    await client.releaseConnection(conn);
  }
}
