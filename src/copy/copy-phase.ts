/**
 * The copy phase of a migrate run: the writers' pool, the copy of every
 * table in the units the run recorded (on the path chooseCopyPath picked:
 * inside the server, COPY streams, or the rows), the deferred indexes,
 * forward provider references and id sequences.
 */
import type { Knex } from 'knex';
import { openDatabase, type Database } from '../db/connect.js';
import type { WriteSetLimits } from '../db/dialect/dialect.js';
import { withDatabaseErrors } from '../db/errors.js';
import { PlacementUpgradeError } from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';
import {
  BULK_MIN_ROWS,
  buildDeferredIndexes,
  DEFERRED_INDEX_TABLES,
  dropDeferredIndexes,
  planCopyUnits,
  referencedTables,
} from './bulk-load.js';
import { copyTables, rowCopier, type UnitCopier } from './copy.js';
import { fixForwardReferences, orphanSets, rowTransform, type OrphanSets } from './row-fixes.js';
import { pick, sourceSide, type CopyOutcome, type RunContext } from './run-context.js';
import { chooseCopyPath, copyUnitServerSide, type CopyPath } from './server-side.js';
import { sourceDigest } from './source.js';
import { STREAM_CHUNK_ROWS } from './outcome.js';
import { openSourceReaders } from './source-readers.js';
import { copyUnitStreamed } from './stream-copy.js';
import { copyTable as tableSpec } from './tables.js';
import { saveRun, type RunRecord } from './target.js';
import { serverBatchRows, writeSetNotice, writeSetSplitter } from './write-set.js';

/** Writers at once: --parallel, capped by the target's dialect (SQLite: 1). */
export function writerCount(ctx: RunContext): number {
  return Math.max(1, Math.min(ctx.options.parallel ?? 1, ctx.target.dialect.maxConcurrentWriters));
}

/**
 * The writers' pool on the target, when the copy runs more than one writer
 * and the caller brought none: the run's control connection (locks, schema,
 * marker) stays a single session. Undefined when there is nothing to open.
 */
export async function openWriterPool(ctx: RunContext): Promise<Database | undefined> {
  const parallel = writerCount(ctx);
  if (parallel <= 1 || ctx.options.writers) return undefined;
  return await openDatabase(ctx.target.spec, {
    max: parallel,
    connectTimeoutSeconds: ctx.options.connectTimeoutSeconds,
  });
}

/**
 * Phase 5: the copy, in the units the run recorded (so that a resume with
 * another --parallel fills each key range from its own greatest key), with
 * the bulk tables' plain indexes built after their copy, then forward
 * provider references and id sequences.
 */
export async function copyData(
  ctx: RunContext,
  run: RunRecord,
  pool: Database | undefined,
): Promise<CopyOutcome> {
  const { source, target, shape, selected, sourceRows, options, progress, base } = ctx;
  const src = source.knex;
  const orphanFilter = options.skipOrphans ? await orphanSets(src, shape) : null;
  const parallel = writerCount(ctx);
  const writers = parallel > 1 ? (options.writers ?? pool?.knex ?? target.knex) : target.knex;
  const present = selected.filter((t) => shape.layouts[t]!.present);
  const bulkMinRows = options.bulkMinRows ?? BULK_MIN_ROWS;
  const units = await withDatabaseErrors(source, 'planning the copy', () =>
    planCopyUnits(src, source.dialect, present, sourceRows, {
      parallel,
      minRows: bulkMinRows,
      recorded: run.plan.ranges,
    }),
  );
  // Recorded before any row of a table is written.
  for (const table of present) {
    run.plan.ranges[table] ??= units
      .filter((u) => u.table === table)
      .map((u) => [u.range?.above ?? null, u.range?.upTo ?? null]);
  }
  await withDatabaseErrors(target, 'recording the plan', () => saveRun(target, { plan: run.plan }));
  const path = await withDatabaseErrors(target, 'choosing the copy path', () =>
    chooseCopyPath(source, target, present, options.fastPath ?? true),
  );
  base.copyPath = path;
  progress({
    type: 'step',
    step: 'copy-path',
    message:
      path.path === 'server-side'
        ? `Copying inside the server: ${path.reason}`
        : path.path === 'copy-stream'
          ? `Copying as COPY streams: ${path.reason}`
          : `Copying through placement-upgrade: ${path.reason}`,
  });
  const bulk = DEFERRED_INDEX_TABLES.filter(
    (t) => present.includes(t) && (sourceRows[t] ?? 0) >= bulkMinRows,
  );
  await withDatabaseErrors(target, 'dropping indexes to build after the copy', () =>
    dropDeferredIndexes(target, bulk),
  );
  // A bulk-loaded table's indexes are built as soon as its copy ends, while
  // the other tables are still copying.
  const indexBuilds: Promise<void>[] = [];
  const buildEarly = (t: string) => {
    if (!bulk.includes(t as (typeof bulk)[number])) return;
    const build = buildDeferredIndexes(target, writers, [t], progress);
    build.catch(() => undefined); // awaited below; this only keeps Node from calling it unhandled
    indexBuilds.push(build);
  };
  const limits = (await target.dialect.writeSetLimits?.(target.knex)) ?? null;
  const fitting = writeSetNotice(limits, options.batchSize);
  if (fitting) progress({ type: 'warning', message: fitting });
  const readers = await withDatabaseErrors(source, 'opening readers of the snapshot', () =>
    openSourceReaders(source, parallel, options.connectTimeoutSeconds),
  );
  // The snapshot's digest, for the end's comparison with the live source,
  // read on the snapshot's connection: beside the copy where the copy reads
  // on connections of its own, else as soon as the copy's reads end, beside
  // the index builds still running and then the verification (queued
  // between the copy's reads, it held them up: 1M allocations
  // MariaDB→PostgreSQL, a copy of 10.3 s instead of 8.1 s).
  const readDigest = () => {
    ctx.startDigest = sourceDigest(src, source.dialect, pick(shape.layouts, selected));
    ctx.startDigest.catch(() => undefined); // awaited in conclude
  };
  if (readers.ownConnections) readDigest();
  base.copied = await withDatabaseErrors(target, 'copying', () =>
    copyTables(units, {
      parallel,
      totals: sourceRows,
      dependsOn: referencedTables,
      onTableDone: buildEarly,
      onProgress: progress,
      copierFor: (t) => copierFor(ctx, path, writers, orphanFilter, limits, t),
      withSource: (t, work) => readers.use((conn) => work({ ...sourceSide(ctx, t), conn })),
    })
      .catch(async (err: unknown) => {
        // The index builds under way end before the error is reported.
        await Promise.allSettled(indexBuilds);
        throw target.dialect.isUniqueViolation(err) ? collidingRows(target, err) : err;
      })
      .finally(() => readers.close().catch(() => undefined)),
  );
  // Providers' references to providers copied after them, read in the
  // snapshot before the digest takes the snapshot's connection.
  if (
    selected.includes('resource_providers') &&
    shape.layouts['resource_providers']!.columns.includes('parent_provider_id')
  ) {
    await fixForwardReferences(src, target, orphanFilter).catch(async (err: unknown) => {
      await Promise.allSettled(indexBuilds);
      throw err;
    });
  }
  if (!ctx.startDigest) readDigest();
  await withDatabaseErrors(target, 'building indexes', () => Promise.all(indexBuilds));
  for (const t of selected) {
    if (tableSpec(t).autoincrement) await target.dialect.advanceSequence(target.knex, t, 'id');
  }
  // Always, not only after this run's drops: a killed run may have dropped them.
  await withDatabaseErrors(target, 'building indexes', () =>
    buildDeferredIndexes(target, writers, DEFERRED_INDEX_TABLES, progress),
  );
  return { orphanFilter, parallel, writers };
}

/**
 * The strategy that copies `table`'s units: the run's fast path (inside the
 * server, or COPY streams) when the table needs no change on its way, the
 * rows through Node otherwise (provider references pointing forward,
 * --skip-orphans) and on the row path.
 */
function copierFor(
  ctx: RunContext,
  path: CopyPath,
  writers: Knex,
  orphanFilter: OrphanSets | null,
  limits: WriteSetLimits | null,
  table: string,
): UnitCopier {
  const target = { conn: writers, dialect: ctx.target.dialect };
  const transform = rowTransform(table, orphanFilter);
  const { batchSize } = ctx.options;
  // Unchanged rows go to PostgreSQL as COPY text the target prints back the same.
  const copyText = transform ? undefined : ctx.target.dialect.streamCopy;
  const split = writeSetSplitter(limits);
  const rows = rowCopier(target, { batchSize, split, transform, copyText });
  if (transform) return rows;
  const streamCopy = ctx.source.dialect.streamCopy;
  if (path.path === 'copy-stream' && streamCopy) {
    const chunk = { batchSize: ctx.options.streamChunkRows ?? STREAM_CHUNK_ROWS };
    return (source, range, hooks) =>
      copyUnitStreamed({ ...source, streamCopy }, target, range, { ...chunk, ...hooks });
  }
  const fast = { batchSize: serverBatchRows(limits, batchSize) };
  const serverCopy = ctx.target.dialect.serverCopy;
  const schema = path.sourceSchema;
  if (path.path === 'server-side' && serverCopy && schema) {
    return (source, range, hooks) =>
      copyUnitServerSide({ ...source, schema, serverCopy }, target, range, { ...fast, ...hooks });
  }
  return rows;
}

/**
 * A row the copy writes that the target holds already, under another key:
 * something other than this run wrote into the target meanwhile (the
 * online data migrations of another tool creating consumers, placement
 * itself). Not a bug: the run cannot go on without --restart.
 */
function collidingRows(target: Database, err: unknown): PlacementUpgradeError {
  const e = err as { sqlMessage?: string; detail?: string; message?: string };
  const detail = e.sqlMessage ?? e.detail ?? (e.message ?? String(err)).split(' - ').pop();
  return new PlacementUpgradeError(
    'target_rows_collide',
    ExitCode.TARGET_HAS_OTHER_DATA,
    `${target.display} holds rows this migration did not write, which collide with the source's (${detail}): something wrote into the target while the migration was unfinished. What was committed before stays committed.`,
    {
      hint: 'Re-run with --apply --restart to empty the tables and copy again, with nothing else writing to the placement database until migrate exits 0.',
      cause: err,
    },
  );
}
