/**
 * The verification phase of a migrate run: every copied table against the
 * source's snapshot, by the checksum its copy path made of the source where
 * there is one, else row by row, naming the differences.
 */
import { withDatabaseErrors } from '../db/errors.js';
import { mapLimited } from '../util/map-limited.js';
import { checksumSide, compareTable } from './compare.js';
import type { CopyResult } from './copy.js';
import { skipTolerance } from './row-fixes.js';
import { sourceSide, targetSide, type CopyOutcome, type RunContext } from './run-context.js';
import { combineServerChecksums, serverChecksum } from './server-side.js';
import { combineStreamChecksums, targetStreamChecksum } from './stream-copy.js';

/**
 * Phase 6: every copied table against the snapshot, by checksum where the
 * copy hashed the source already, else row by row, naming the differences.
 */
export async function verifyCopy(ctx: RunContext, copy: CopyOutcome): Promise<void> {
  const { shape, selected, sourceRows, options, progress, base } = ctx;
  progress({
    type: 'step',
    step: 'verify',
    message: 'Verifying every copied table against the snapshot',
  });
  const present = selected.filter((t) => shape.layouts[t]!.present);
  const copiedOf = (t: string) => base.copied.find((c) => c.table === t);
  // The tables' checksums at once, as many as there are writers.
  const checksums = await withDatabaseErrors(ctx.target, 'verifying', () =>
    mapLimited(present, copy.parallel, async (t) => {
      const copied = copiedOf(t);
      if (skipTolerance(t, copy.orphanFilter) || !copied?.sourceChecksum) return null;
      return await targetChecksum(ctx, copy, t, copied);
    }),
  );
  for (const [i, t] of present.entries()) {
    const tolerance = skipTolerance(t, copy.orphanFilter);
    const copied = copiedOf(t);
    const mine = checksums[i];
    if (
      copied?.sourceChecksum &&
      mine &&
      mine.rows === copied.sourceRows &&
      mine.checksum === copied.sourceChecksum
    ) {
      base.verification.push({
        table: t,
        sourceRows: copied.sourceRows,
        targetRows: mine.rows,
        sourceChecksum: copied.sourceChecksum,
        targetChecksum: mine.checksum,
        equal: true,
        differences: [],
        differenceCount: 0,
        toleratedExtras: 0,
      });
      continue;
    }
    // Resumed, tolerant, or different: compare row by row to name the differences.
    base.verification.push(
      await compareTable(sourceSide(ctx, t), targetSide(ctx, t), {
        batchSize: options.batchSize,
        maxDifferences: options.maxDifferences,
        tolerance,
        onProgress: progress,
        total: sourceRows[t],
      }),
    );
  }
}

/**
 * The target's checksum of a copied table, over the slices it was copied
 * in and as its copy path hashed the source: the server's (inside the
 * server), the target's COPY text (COPY streams), or the canonical rows
 * read by placement-upgrade. Null when the path's hash cannot be made here.
 */
async function targetChecksum(
  ctx: RunContext,
  copy: CopyOutcome,
  t: string,
  copied: CopyResult,
): Promise<{ rows: number; checksum: string } | null> {
  const side = { ...targetSide(ctx, t), conn: copy.writers };
  const ranges = copied.slices.map((x) => x.range);
  const sum = (parts: { rows: number; checksum: string }[], combine: (c: string[]) => string) => ({
    rows: parts.reduce((a, p) => a + p.rows, 0),
    checksum: combine(parts.map((p) => p.checksum)),
  });
  const { serverCopy, streamCopy } = ctx.target.dialect;
  switch (copied.method) {
    case 'copy-stream':
    case 'copy-text':
      if (!streamCopy) return null;
      return sum(
        await Promise.all(ranges.map((r) => targetStreamChecksum({ ...side, streamCopy }, r))),
        combineStreamChecksums,
      );
    case 'server-side':
      if (!serverCopy) return null;
      return sum(
        await Promise.all(
          ranges.map((r) => serverChecksum({ ...side, serverCopy, source: false }, r)),
        ),
        combineServerChecksums,
      );
    case 'rows':
      return checksumSide(side, {
        batchSize: ctx.options.batchSize,
        onProgress: ctx.progress,
        total: ctx.sourceRows[t],
        ranges,
        parallel: copy.parallel,
      });
  }
}
