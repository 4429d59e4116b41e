/**
 * Captures test/reference/schema-<engine>.json: the schema that placement's own
 * alembic migrations (Debian python3-placement 8.0.0) create at each revision it
 * knows, on MariaDB, PostgreSQL and SQLite, introspected by our dialect layer.
 *
 * Run: npx tsx scripts/capture-reference-schemas.ts
 * Revisions newer than the installed placement (a082b8bb98d0, 2023.2) are kept
 * from the existing file; see test/reference/README.md for how they were made.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ENGINES } from '../src/db/url.js';
import type { SchemaSnapshot } from '../src/schema/model.js';
import { createTestDatabase } from '../test/helpers/databases.js';
import { placementUpgradeTo } from '../test/helpers/real-placement.js';
import { referencePath } from '../test/helpers/reference-schema.js';

const KNOWN_TO_ZED = ['b4ed3a175331', '611cd6dffd7b', 'b5c396305c25', '422ece571366'];

for (const engine of ENGINES) {
  const file = referencePath(engine);
  const out: Record<string, SchemaSnapshot> = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, SchemaSnapshot>)
    : {};
  for (const revision of KNOWN_TO_ZED) {
    const target = await createTestDatabase(engine, `ref_${revision}`);
    try {
      const r = await placementUpgradeTo(target.url, revision);
      if (r.code !== 0)
        throw new Error(`placement upgrade to ${revision} on ${engine} failed:\n${r.stderr}`);
      const db = await target.open();
      try {
        out[revision] = await db.dialect.introspect(db.knex);
      } finally {
        await db.close();
      }
      process.stdout.write(
        `${engine} ${revision}: ${Object.keys(out[revision]!.tables).length} tables\n`,
      );
    } finally {
      await target.drop();
    }
  }
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
}
