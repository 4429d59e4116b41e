/**
 * What migrate's change detection costs: the server-side digest of every
 * copied column of every row of the eleven placement tables (migrate takes
 * it twice, in the snapshot and live at the end), against the other way to
 * catch any change, re-reading the whole source and checksumming it in Node
 * (what the copy's own checksum does). Same Rocky nova_api as the migrate
 * cases, read in-process on one connection; nothing is written.
 */
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { checksumSide } from '../../src/copy/compare.js';
import { describeSource, readNovaSchemaVersion, sourceDigest } from '../../src/copy/source.js';
import type { TableLayout } from '../../src/copy/reader.js';
import type { BenchCase, BenchContext, Measurement } from '../case.js';
import { serverAvailable, type ServerEngine } from '../lib/servers.js';
import { acquireSource, type Source } from '../lib/sources.js';
import { allocationsOf } from './migrate.js';

const ENGINE_NAME: Record<ServerEngine, string> = { mysql: 'MariaDB', postgresql: 'PostgreSQL' };

function digestCase(engine: ServerEngine): BenchCase {
  let source: Source | undefined;
  let db: Database | undefined;
  let layouts: Record<string, TableLayout> = {};
  const rows = () => source?.summary.allocations ?? 0;
  return {
    name: `change detection ${ENGINE_NAME[engine]}`,
    subject: 'placement-upgrade source digest (server-side, all columns)',
    reference: 'a re-read of the source, checksummed in Node',
    sizeKeys: ['allocations'],
    available: () => serverAvailable(engine),
    async setup(ctx: BenchContext) {
      source = await acquireSource(engine, allocationsOf(ctx), ctx.log);
      db = await openDatabase(parseConnectionUrl(source.url, 'benchmark source'), { max: 1 });
      const snapshot = await db.dialect.introspect(db.knex);
      const shape = describeSource(
        snapshot,
        await readNovaSchemaVersion(db.knex, db.dialect, Object.keys(snapshot.tables)),
      );
      layouts = shape.layouts;
    },
    async runSubject(): Promise<Measurement> {
      const started = performance.now();
      const digest = await sourceDigest(db!.knex, db!.dialect, layouts);
      return {
        ms: performance.now() - started,
        extra: { allocations: rows(), tables: Object.keys(digest).length },
      };
    },
    async runReference(): Promise<Measurement> {
      const started = performance.now();
      for (const layout of Object.values(layouts)) {
        if (!layout.present) continue;
        await checksumSide({ conn: db!.knex, dialect: db!.dialect, layout }, { batchSize: 2000 });
      }
      return { ms: performance.now() - started, extra: { allocations: rows() } };
    },
    async teardown() {
      await db?.close();
    },
  };
}

export default [digestCase('mysql'), digestCase('postgresql')];
