/**
 * The connections the copy reads the source on. Every read of a run sees
 * the one snapshot migrate opened at its start. Where the dialect can share
 * that snapshot (PostgreSQL's exported snapshots, as pg_dump --jobs uses),
 * each writer reads on a connection of its own inside it, so that a COPY
 * stream, which holds its source connection for as long as the target
 * takes to write, does not make the other writers wait. Elsewhere every
 * read queues on the snapshot connection, as the driver orders them.
 */
import type { Knex } from 'knex';
import { openDatabase, type Database } from '../db/connect.js';

export interface SourceReaders {
  /** True when the readers are connections of their own, false when every read queues on the snapshot connection. */
  readonly ownConnections: boolean;
  /** Runs `work` on a free reader inside the run's snapshot, waiting for one if need be. */
  use<T>(work: (conn: Knex) => Promise<T>): Promise<T>;
  /** Ends the readers' transactions and closes them (never the snapshot connection). */
  close(): Promise<void>;
}

/** The snapshot connection alone. */
function snapshotOnly(source: Database): SourceReaders {
  return { ownConnections: false, use: (work) => work(source.knex), close: async () => undefined };
}

/**
 * Up to `count` readers inside `source`'s open snapshot; the snapshot
 * connection alone when `count` is 1 or the dialect cannot share it.
 * Throws the connection's own error when a reader cannot be opened (after
 * closing those that were).
 */
export async function openSourceReaders(
  source: Database,
  count: number,
  connectTimeoutSeconds: number | undefined,
): Promise<SourceReaders> {
  const shared = source.dialect.sharedSnapshot;
  if (count <= 1 || !shared) return snapshotOnly(source);
  const name = await shared.export(source.knex);
  const opened = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const db = await openDatabase(source.spec, { max: 1, connectTimeoutSeconds });
      try {
        await shared.join(db.knex, name);
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err;
      }
      return db;
    }),
  );
  const readers = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await closeAll(source, readers);
    throw failed.reason;
  }

  const free = [...readers];
  const waiting: ((db: Database) => void)[] = [];
  const release = (db: Database) => {
    const next = waiting.shift();
    if (next) next(db);
    else free.push(db);
  };
  return {
    ownConnections: true,
    async use(work) {
      const db = free.pop() ?? (await new Promise<Database>((resolve) => waiting.push(resolve)));
      try {
        return await work(db.knex);
      } finally {
        release(db);
      }
    },
    close: () => closeAll(source, readers),
  };
}

async function closeAll(source: Database, readers: readonly Database[]): Promise<void> {
  await Promise.allSettled(
    readers.map(async (db) => {
      await source.dialect.endSnapshot(db.knex).catch(() => undefined);
      await db.close();
    }),
  );
}
