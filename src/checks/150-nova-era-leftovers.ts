import { revisionIndex } from '../migrations/index.js';
import { PLACEMENT_TABLES, getSchemaVersion } from '../schema/migrator.js';
import { success, warning, type UpgradeCheck } from './types.js';

/** The revision that drops nova's redundant indexes, and the indexes it drops. */
const DROP_INDEXES_REVISION = 'a082b8bb98d0';
const REDUNDANT_INDEXES: readonly [table: string, index: string][] = [
  ['inventories', 'inventories_resource_provider_id_idx'],
  ['inventories', 'inventories_resource_provider_resource_class_idx'],
  ['placement_aggregates', 'ix_placement_aggregates_uuid'],
  ['resource_providers', 'resource_providers_name_idx'],
  ['resource_providers', 'resource_providers_uuid_idx'],
];

/**
 * What copying nova_api's DDL along with its data leaves behind: nova's
 * can_host column, its sqlalchemy-migrate table, latin1 tables, and (on a
 * database stamped without running the migration) indexes that placement
 * 2023.2 drops. Placement works with them, but they waste space, confuse
 * later schema changes, and latin1 refuses names outside Latin-1.
 */
const novaEraLeftovers: UpgradeCheck = {
  title: 'Nova-era Leftovers',
  gate: 'advisory',
  async run({ database }) {
    const { knex, dialect } = database;
    const snapshot = await dialect.introspect(knex);
    const tables = Object.keys(snapshot.tables);
    const found: string[] = [];
    const fixes: string[] = [];
    const q = (s: string) => dialect.quote(s);

    if (snapshot.tables['resource_providers']?.columns.some((c) => c.name === 'can_host')) {
      found.push("resource_providers.can_host (nova's, unused since Newton)");
      fixes.push(`ALTER TABLE ${q('resource_providers')} DROP COLUMN ${q('can_host')};`);
    }
    if (tables.includes('migrate_version')) {
      found.push("the migrate_version table (nova_api's sqlalchemy-migrate version)");
      fixes.push(`DROP TABLE ${q('migrate_version')};`);
    }

    const nonUnicode = (await dialect.nonUnicodeText(knex)).filter(
      (t) => t.table === null || PLACEMENT_TABLES.includes(t.table),
    );
    if (nonUnicode.some((t) => t.table === null)) {
      const db = nonUnicode.find((t) => t.table === null)!;
      found.push(`a database encoded ${db.charset}, not UTF8`);
      fixes.push('recreate the database with ENCODING UTF8 and copy the data again;');
    }
    const latinTables = [...new Set(nonUnicode.filter((t) => t.table).map((t) => t.table!))].sort();
    if (latinTables.length > 0) {
      const charsets = [...new Set(nonUnicode.filter((t) => t.table).map((t) => t.charset))];
      found.push(`${charsets.join('/')} tables or columns (${latinTables.join(', ')})`);
      fixes.push(
        ...latinTables.map((t) => `ALTER TABLE ${q(t)} CONVERT TO CHARACTER SET utf8mb4;`),
        '(first make sure no two provider or trait names differ only in letter case, which a case-insensitive collation would merge);',
      );
    }

    let revision: string | null = null;
    try {
      revision = (await getSchemaVersion(database)).revision;
    } catch {
      // An unknown revision is the Database Revision check's to report.
    }
    if (revision !== null && revisionIndex(revision) >= revisionIndex(DROP_INDEXES_REVISION)) {
      const stale = REDUNDANT_INDEXES.filter(([table, index]) =>
        snapshot.tables[table]?.indexes.some((i) => i.name === index),
      );
      if (stale.length > 0) {
        found.push(
          `indexes that revision ${DROP_INDEXES_REVISION} drops, on a database stamped ${revision} (${stale.map(([, i]) => i).join(', ')})`,
        );
        fixes.push(...stale.map(([table, index]) => `${dialect.dropIndexSql(table, index)};`));
      }
    }

    if (found.length === 0) return success();
    return warning(`Left over from nova_api: ${found.join('; ')}. Remove them: ${fixes.join(' ')}`);
  },
};

export default novaEraLeftovers;
