import type { Knex } from 'knex';
import { standardResourceClasses } from '../standard/standard-names.js';
import { countRows } from './support.js';
import { failure, success, type UpgradeCheck } from './types.js';

interface OrphanKind {
  /** The dangling rows, singular and plural ("allocation", "allocations"). */
  rows: [string, string];
  /** What they point at, which does not exist ("a resource provider"). */
  missing: string;
  /** Rows of the child table whose reference is dangling. */
  query(knex: Knex): Knex.QueryBuilder;
  /** The dangling column, to list the missing ids. */
  column: string;
  /** SQL the operator can run (or adapt) to clean up, given the missing ids. */
  fix(ids: number[]): string;
}

/** A class id is valid when resource_classes holds it or it is a standard class's id (nova never stored those). */
function danglingClass(knex: Knex, table: 'allocations' | 'inventories'): Knex.QueryBuilder {
  const standard = standardResourceClasses().length;
  return knex(`${table} as x`)
    .leftJoin('resource_classes as rc', 'rc.id', 'x.resource_class_id')
    .whereNull('rc.id')
    .where((q) =>
      q.where('x.resource_class_id', '<', 0).orWhere('x.resource_class_id', '>=', standard),
    );
}

const inList = (ids: number[]) => `(${ids.join(', ')})`;

/** Rows of `table` whose `column` names no row of `parent` (NULL is not dangling). */
function dangling(table: string, column: string, parent: string) {
  return (k: Knex) =>
    k(`${table} as x`)
      .leftJoin(`${parent} as p`, 'p.id', `x.${column}`)
      .whereNotNull(`x.${column}`)
      .whereNull('p.id');
}

/** The orphans can only go: they describe resources of something that is gone. */
function deleteFix(table: string, column: string) {
  return (ids: number[]) => `DELETE FROM ${table} WHERE ${column} IN ${inList(ids)};`;
}

/** The orphans should be re-pointed at the row the operator names. */
function repointFix(table: string, column: string, value: string) {
  return (ids: number[]) =>
    `UPDATE ${table} SET ${column} = ${value} WHERE ${column} IN ${inList(ids)};`;
}

/** A reference from `table.column` to `parent`, with what the orphans are called and how to mend them. */
function reference(
  rows: [string, string],
  table: string,
  column: string,
  parent: string,
  missing: string,
  fix?: (ids: number[]) => string,
): OrphanKind {
  return {
    rows,
    missing,
    column: `x.${column}`,
    query: dangling(table, column, parent),
    fix: fix ?? deleteFix(table, column),
  };
}

/** A class reference: valid when resource_classes holds it or it is a standard class's id. */
function classReference(rows: [string, string], table: 'allocations' | 'inventories'): OrphanKind {
  return {
    rows,
    missing: 'a resource class',
    column: 'x.resource_class_id',
    query: (k) => danglingClass(k, table),
    fix: deleteFix(table, 'resource_class_id'),
  };
}

const ALLOCATION: [string, string] = ['allocation', 'allocations'];
const INVENTORY: [string, string] = ['inventory', 'inventories'];
const AGGREGATE_LINK: [string, string] = ['aggregate link', 'aggregate links'];
const TRAIT_LINK: [string, string] = ['trait link', 'trait links'];
const CONSUMER: [string, string] = ['consumer', 'consumers'];
const PROVIDER: [string, string] = ['resource provider', 'resource providers'];
const PROVIDER_TABLE = 'resource_providers';

const KINDS: OrphanKind[] = [
  reference(
    ALLOCATION,
    'allocations',
    'resource_provider_id',
    PROVIDER_TABLE,
    'a resource provider',
  ),
  classReference(ALLOCATION, 'allocations'),
  reference(
    INVENTORY,
    'inventories',
    'resource_provider_id',
    PROVIDER_TABLE,
    'a resource provider',
  ),
  classReference(INVENTORY, 'inventories'),
  reference(
    AGGREGATE_LINK,
    'resource_provider_aggregates',
    'resource_provider_id',
    PROVIDER_TABLE,
    'a resource provider',
  ),
  reference(
    AGGREGATE_LINK,
    'resource_provider_aggregates',
    'aggregate_id',
    'placement_aggregates',
    'an aggregate',
  ),
  reference(
    TRAIT_LINK,
    'resource_provider_traits',
    'resource_provider_id',
    PROVIDER_TABLE,
    'a resource provider',
  ),
  reference(TRAIT_LINK, 'resource_provider_traits', 'trait_id', 'traits', 'a trait'),
  reference(
    CONSUMER,
    'consumers',
    'project_id',
    'projects',
    'a project',
    repointFix(
      'consumers',
      'project_id',
      "(SELECT id FROM projects WHERE external_id = '<the project>')",
    ),
  ),
  reference(
    CONSUMER,
    'consumers',
    'user_id',
    'users',
    'a user',
    repointFix('consumers', 'user_id', "(SELECT id FROM users WHERE external_id = '<the user>')"),
  ),
  reference(
    PROVIDER,
    PROVIDER_TABLE,
    'parent_provider_id',
    PROVIDER_TABLE,
    'a parent provider',
    repointFix(PROVIDER_TABLE, 'parent_provider_id', "<the parent's id>"),
  ),
  reference(
    PROVIDER,
    PROVIDER_TABLE,
    'root_provider_id',
    PROVIDER_TABLE,
    'a root provider',
    repointFix(PROVIDER_TABLE, 'root_provider_id', "<the root's id>"),
  ),
];

/** Missing ids listed in details and in the suggested SQL. */
const MAX_IDS = 10;

/**
 * nova_api's placement tables have few foreign keys: allocations,
 * inventories and the link tables can point at providers, classes,
 * aggregates or traits that are gone, and consumers at projects or users
 * that are gone. Placement miscounts usage or fails requests on such rows.
 */
const orphanedRecords: UpgradeCheck = {
  title: 'Orphaned Records',
  gate: 'advisory',
  async run({ database: { knex } }) {
    const found: string[] = [];
    const fixes: string[] = [];
    for (const kind of KINDS) {
      const rows = await countRows(kind.query(knex));
      if (rows === 0) continue;
      const ids = (
        (await kind
          .query(knex)
          .distinct({ id: kind.column })
          .orderBy(kind.column)
          .limit(MAX_IDS + 1)) as {
          id: number | string;
        }[]
      ).map((r) => Number(r.id));
      const shown = ids.slice(0, MAX_IDS);
      const more = ids.length > MAX_IDS ? ', ...' : '';
      found.push(
        `${rows} ${rows === 1 ? kind.rows[0] : kind.rows[1]} pointing at ${kind.missing} that does not exist (id${ids.length === 1 ? '' : 's'} ${shown.join(', ')}${more})`,
      );
      fixes.push(kind.fix(shown) + (more ? ' (and the other ids)' : ''));
    }
    if (found.length === 0) return success();
    return failure(
      `Found ${found.join('; ')}. Restore the missing rows from the source database, or remove or re-point the orphans, e.g.: ${fixes.join(' ')}`,
    );
  },
};

export default orphanedRecords;
