/**
 * Every placement table of a database as one digest per table: its rows in
 * primary-key order, every column, hashed. Two digests equal means the
 * tables hold byte-for-byte the same rows.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../../src/db/connect.js';
import { PLACEMENT_TABLES } from '../../src/schema/migrator.js';

export async function tableDigests(db: Database): Promise<Record<string, string>> {
  const present = new Set(await db.dialect.listTables(db.knex));
  const out: Record<string, string> = {};
  for (const table of [...PLACEMENT_TABLES, 'alembic_version']) {
    if (!present.has(table)) continue;
    const columns = Object.keys(await db.knex(table).columnInfo()).sort();
    const rows = (await db.knex(table).select(columns).orderBy(columns)) as Record<
      string,
      unknown
    >[];
    const hash = createHash('sha256');
    for (const r of rows) hash.update(JSON.stringify(columns.map((c) => String(r[c]))) + '\n');
    out[table] = `${rows.length}:${hash.digest('hex').slice(0, 16)}`;
  }
  return out;
}
