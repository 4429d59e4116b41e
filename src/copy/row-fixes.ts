/**
 * What the copy changes in rows on their way: forward provider references,
 * and with --skip-orphans the rows placement's foreign keys would refuse.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import type { Tolerance } from './compare.js';
import type { Row } from './reader.js';
import type { SourceShape } from './source.js';

/** Ids that exist, for --skip-orphans. */
export interface OrphanSets {
  providers: Set<number>;
  traits: Set<number>;
}

export async function orphanSets(conn: Knex, shape: SourceShape): Promise<OrphanSets> {
  const ids = async (t: string) =>
    new Set(
      shape.layouts[t]?.present ? ((await conn(t).pluck('id')) as unknown[]).map(Number) : [],
    );
  return { providers: await ids('resource_providers'), traits: await ids('traits') };
}

/**
 * Per-row changes made while copying: references to providers with a
 * greater id are written NULL and fixed once every provider exists (a
 * re-parented tree can point forward), and --skip-orphans drops or NULLs
 * what placement's foreign keys refuse.
 */
export function rowTransform(
  table: string,
  orphans: OrphanSets | null,
): ((row: Row) => Row | null) | undefined {
  if (table === 'resource_providers') {
    return (row) => {
      const id = Number(row['id']);
      for (const col of ['parent_provider_id', 'root_provider_id']) {
        const ref = row[col];
        if (ref == null) continue;
        if (orphans && !orphans.providers.has(Number(ref))) row[col] = null;
        else if (Number(ref) > id) row[col] = null;
      }
      return row;
    };
  }
  if (table === 'resource_provider_traits' && orphans) {
    return (row) =>
      orphans.providers.has(Number(row['resource_provider_id'])) &&
      orphans.traits.has(Number(row['trait_id']))
        ? row
        : null;
  }
  return undefined;
}

/** What verification accepts after --skip-orphans, and nothing else. */
export function skipTolerance(table: string, orphans: OrphanSets | null): Tolerance | undefined {
  if (!orphans) return undefined;
  if (table === 'resource_providers') {
    return {
      normalise: (r) => {
        const out = { ...r };
        for (const col of ['parent_provider_id', 'root_provider_id']) {
          if (out[col] != null && !orphans.providers.has(Number(out[col]))) out[col] = null;
        }
        return out;
      },
    };
  }
  if (table === 'resource_provider_traits') {
    return {
      acceptMissing: (r) =>
        !orphans.providers.has(Number(r['resource_provider_id'])) ||
        !orphans.traits.has(Number(r['trait_id'])),
    };
  }
  return undefined;
}

/** Writes the parent/root references that pointed forward, now that every provider exists. */
export async function fixForwardReferences(
  src: Knex,
  target: Database,
  orphans: OrphanSets | null,
): Promise<void> {
  const rows = (await src('resource_providers')
    .where((w) => w.whereRaw('parent_provider_id > id').orWhereRaw('root_provider_id > id'))
    .select('id', 'parent_provider_id', 'root_provider_id')) as Row[];
  for (const row of rows) {
    const fix: Row = {};
    for (const col of ['parent_provider_id', 'root_provider_id']) {
      const ref = row[col];
      if (ref == null || (orphans && !orphans.providers.has(Number(ref)))) continue;
      fix[col] = ref;
    }
    if (Object.keys(fix).length > 0)
      await target.knex('resource_providers').where({ id: row['id'] }).update(fix);
  }
}
