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

const KINDS: OrphanKind[] = [
  {
    rows: ['allocation', 'allocations'],
    missing: 'a resource provider',
    column: 'x.resource_provider_id',
    query: (k) =>
      k('allocations as x')
        .leftJoin('resource_providers as p', 'p.id', 'x.resource_provider_id')
        .whereNull('p.id'),
    fix: (ids) => `DELETE FROM allocations WHERE resource_provider_id IN ${inList(ids)};`,
  },
  {
    rows: ['allocation', 'allocations'],
    missing: 'a resource class',
    column: 'x.resource_class_id',
    query: (k) => danglingClass(k, 'allocations'),
    fix: (ids) => `DELETE FROM allocations WHERE resource_class_id IN ${inList(ids)};`,
  },
  {
    rows: ['inventory', 'inventories'],
    missing: 'a resource provider',
    column: 'x.resource_provider_id',
    query: (k) =>
      k('inventories as x')
        .leftJoin('resource_providers as p', 'p.id', 'x.resource_provider_id')
        .whereNull('p.id'),
    fix: (ids) => `DELETE FROM inventories WHERE resource_provider_id IN ${inList(ids)};`,
  },
  {
    rows: ['inventory', 'inventories'],
    missing: 'a resource class',
    column: 'x.resource_class_id',
    query: (k) => danglingClass(k, 'inventories'),
    fix: (ids) => `DELETE FROM inventories WHERE resource_class_id IN ${inList(ids)};`,
  },
  {
    rows: ['aggregate link', 'aggregate links'],
    missing: 'a resource provider',
    column: 'x.resource_provider_id',
    query: (k) =>
      k('resource_provider_aggregates as x')
        .leftJoin('resource_providers as p', 'p.id', 'x.resource_provider_id')
        .whereNull('p.id'),
    fix: (ids) =>
      `DELETE FROM resource_provider_aggregates WHERE resource_provider_id IN ${inList(ids)};`,
  },
  {
    rows: ['aggregate link', 'aggregate links'],
    missing: 'an aggregate',
    column: 'x.aggregate_id',
    query: (k) =>
      k('resource_provider_aggregates as x')
        .leftJoin('placement_aggregates as a', 'a.id', 'x.aggregate_id')
        .whereNull('a.id'),
    fix: (ids) => `DELETE FROM resource_provider_aggregates WHERE aggregate_id IN ${inList(ids)};`,
  },
  {
    rows: ['trait link', 'trait links'],
    missing: 'a resource provider',
    column: 'x.resource_provider_id',
    query: (k) =>
      k('resource_provider_traits as x')
        .leftJoin('resource_providers as p', 'p.id', 'x.resource_provider_id')
        .whereNull('p.id'),
    fix: (ids) =>
      `DELETE FROM resource_provider_traits WHERE resource_provider_id IN ${inList(ids)};`,
  },
  {
    rows: ['trait link', 'trait links'],
    missing: 'a trait',
    column: 'x.trait_id',
    query: (k) =>
      k('resource_provider_traits as x')
        .leftJoin('traits as t', 't.id', 'x.trait_id')
        .whereNull('t.id'),
    fix: (ids) => `DELETE FROM resource_provider_traits WHERE trait_id IN ${inList(ids)};`,
  },
  {
    rows: ['consumer', 'consumers'],
    missing: 'a project',
    column: 'x.project_id',
    query: (k) =>
      k('consumers as x').leftJoin('projects as p', 'p.id', 'x.project_id').whereNull('p.id'),
    fix: (ids) =>
      `UPDATE consumers SET project_id = (SELECT id FROM projects WHERE external_id = '<the project>') WHERE project_id IN ${inList(ids)};`,
  },
  {
    rows: ['consumer', 'consumers'],
    missing: 'a user',
    column: 'x.user_id',
    query: (k) => k('consumers as x').leftJoin('users as u', 'u.id', 'x.user_id').whereNull('u.id'),
    fix: (ids) =>
      `UPDATE consumers SET user_id = (SELECT id FROM users WHERE external_id = '<the user>') WHERE user_id IN ${inList(ids)};`,
  },
  {
    rows: ['resource provider', 'resource providers'],
    missing: 'a parent provider',
    column: 'x.parent_provider_id',
    query: (k) =>
      k('resource_providers as x')
        .leftJoin('resource_providers as p', 'p.id', 'x.parent_provider_id')
        .whereNotNull('x.parent_provider_id')
        .whereNull('p.id'),
    fix: (ids) =>
      `UPDATE resource_providers SET parent_provider_id = <the parent's id> WHERE parent_provider_id IN ${inList(ids)};`,
  },
  {
    rows: ['resource provider', 'resource providers'],
    missing: 'a root provider',
    column: 'x.root_provider_id',
    query: (k) =>
      k('resource_providers as x')
        .leftJoin('resource_providers as p', 'p.id', 'x.root_provider_id')
        .whereNotNull('x.root_provider_id')
        .whereNull('p.id'),
    fix: (ids) =>
      `UPDATE resource_providers SET root_provider_id = <the root's id> WHERE root_provider_id IN ${inList(ids)};`,
  },
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
