import { compareMigratedTables } from '../copy/compare-phase.js';
import { describeSource, readNovaSchemaVersion } from '../copy/source.js';
import { COPY_ORDER } from '../copy/tables.js';
import { failure, plural, success, type UpgradeCheck } from './types.js';

/**
 * Only with --source: the placement tables still in nova_api must match the
 * placement database row for row (allowing for the online data migrations
 * and placement's standard rows), or nova wrote to them after the copy —
 * its placement API is still running somewhere.
 */
const sourceParity: UpgradeCheck = {
  title: 'Source Parity',
  gate: 'blocking',
  appliesTo: (context) => context.source !== undefined,
  async run({ source, database }) {
    const src = source!;
    await src.dialect.beginSnapshot(src.knex);
    try {
      const snapshot = await src.dialect.introspect(src.knex);
      const shape = describeSource(
        snapshot,
        await readNovaSchemaVersion(src.knex, src.dialect, Object.keys(snapshot.tables)),
      );
      if (shape.release === 'none') {
        return failure(
          `${src.display} has no placement tables, so there is nothing to compare with. Check --source.`,
        );
      }
      const tables = COPY_ORDER.filter((t) => shape.layouts[t]!.present);
      const results = await compareMigratedTables(src.knex, src.dialect, shape, database, {
        tables,
        batchSize: 5000,
        maxDifferences: 3,
      });
      const differing = results.filter((r) => !r.equal);
      if (differing.length === 0) return success();
      return failure(
        `The placement tables in nova_api no longer match the placement database: ${differing
          .map(
            (d) =>
              `${d.table} (${plural(d.differenceCount, 'row')}, first ${d.differences[0]?.key ?? '?'} ${d.differences[0]?.kind ?? ''})`,
          )
          .join(
            '; ',
          )}. Either nova wrote to them after the copy (its placement API is still running: stop nova-placement-api) or the copy is incomplete; run "placement-upgrade migrate --apply" again to see which.`,
      );
    } finally {
      await src.dialect.endSnapshot(src.knex);
    }
  },
};

export default sourceParity;
