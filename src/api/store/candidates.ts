/**
 * The reads behind GET /allocation_candidates (placement's research_context
 * and allocation_candidate queries): providers with capacity for one
 * amount, sharing providers and the trees they anchor, trait and aggregate
 * sets, and the usages, providers and traits of whole trees for the
 * provider summaries. Id lists are bound in slices, so ten thousand
 * compute nodes stay within every engine's limit on bound parameters.
 */
import { type Access, num, numOrNull, placeholders } from './base.js';

/** Ids bound per statement: far below SQLite's 32766 and PostgreSQL's 65535 parameters. */
const SLICE = 2000;

/** A provider and the root of its tree (or, for a sharing provider, a tree it anchors). */
export type ProviderAndRoot = [id: number, rootId: number];

export interface TreeProvider {
  id: number;
  uuid: string;
  parentId: number | null;
  rootId: number;
}

/** One provider × inventory row of a tree, with what is used of it (null: no inventory). */
export interface TreeUsage {
  providerId: number;
  classId: number | null;
  total: number;
  reserved: number;
  allocationRatio: number;
  maxUnit: number;
  used: number;
}

export interface SharingAnchor {
  providerId: number;
  anchorId: number;
  anchorUuid: string;
}

export class CandidateStore {
  constructor(private readonly access: Access) {}

  /** Runs `sql` (with `{ids}` where the id list goes) once per slice of `ids`, rows concatenated. */
  private async sliced(
    sql: string,
    ids: Iterable<number>,
    before: unknown[] = [],
  ): Promise<Record<string, unknown>[]> {
    const all = [...ids];
    const out: Record<string, unknown>[] = [];
    for (let i = 0; i < all.length; i += SLICE) {
      const slice = all.slice(i, i + SLICE);
      out.push(
        ...(await this.access.rows(sql.replace('{ids}', placeholders(slice.length)), [
          ...before,
          ...slice,
        ])),
      );
    }
    return out;
  }

  /**
   * Providers (with their root) that can take `amount` of one class:
   * capacity (total − reserved) × ratio beyond what is used, within
   * min_unit/max_unit and a multiple of step_size; within one tree if given.
   */
  async withResource(
    classId: number,
    amount: number,
    treeRootId?: number,
  ): Promise<ProviderAndRoot[]> {
    const tree = treeRootId === undefined ? '' : 'AND rp.root_provider_id = ?';
    const rows = await this.access.rows(
      `SELECT rp.id, rp.root_provider_id FROM resource_providers rp
         JOIN inventories inv ON rp.id = inv.resource_provider_id AND inv.resource_class_id = ?
         LEFT JOIN (SELECT resource_provider_id, SUM(used) AS used FROM allocations
                     WHERE resource_class_id = ? GROUP BY resource_provider_id) used_sum
           ON inv.resource_provider_id = used_sum.resource_provider_id
        WHERE COALESCE(used_sum.used, 0) + ? <= (inv.total - inv.reserved) * inv.allocation_ratio
          AND inv.min_unit <= ? AND inv.max_unit >= ? AND ? % inv.step_size = 0 ${tree}`,
      [
        classId,
        classId,
        amount,
        amount,
        amount,
        amount,
        ...(treeRootId === undefined ? [] : [treeRootId]),
      ],
    );
    return rows.map((r) => [num(r['id']), num(r['root_provider_id'])]);
  }

  /** Providers (with their root) among `allowed` (all when empty) and not in `forbidden`. */
  async withRoot(allowed: Set<number>, forbidden: Set<number>): Promise<ProviderAndRoot[]> {
    const rows = await this.access.rows('SELECT id, root_provider_id FROM resource_providers');
    return rows
      .map((r): ProviderAndRoot => [num(r['id']), num(r['root_provider_id'])])
      .filter(([id]) => (allowed.size === 0 || allowed.has(id)) && !forbidden.has(id));
  }

  /** Whether any provider has a parent: without trees, simpler searches give the same answer. */
  async hasTrees(): Promise<boolean> {
    const rows = await this.access.rows(
      'SELECT id FROM resource_providers WHERE parent_provider_id IS NOT NULL LIMIT 1',
    );
    return rows.length > 0;
  }

  /** Providers with the trait (MISC_SHARES_VIA_AGGREGATE: sharing providers). */
  async withTrait(traitId: number): Promise<Set<number>> {
    const rows = await this.access.rows(
      'SELECT resource_provider_id FROM resource_provider_traits WHERE trait_id = ?',
      [traitId],
    );
    return new Set(rows.map((r) => num(r['resource_provider_id'])));
  }

  /**
   * For each sharing provider, the roots of every tree with a provider in
   * one of its aggregates (its own tree included when it is in its aggregate).
   */
  async anchorsOfSharing(providerIds: Iterable<number>): Promise<SharingAnchor[]> {
    const rows = await this.sliced(
      `SELECT DISTINCT sps.id AS sp_id, rps.id AS anchor_id, rps.uuid AS anchor_uuid
         FROM resource_providers sps
         JOIN resource_provider_aggregates shr_aggs ON sps.id = shr_aggs.resource_provider_id
         JOIN resource_provider_aggregates other_aggs ON shr_aggs.aggregate_id = other_aggs.aggregate_id
         JOIN resource_providers other ON other_aggs.resource_provider_id = other.id
         JOIN resource_providers rps ON other.root_provider_id = rps.id
        WHERE sps.id IN ({ids})`,
      providerIds,
    );
    return rows.map((r) => ({
      providerId: num(r['sp_id']),
      anchorId: num(r['anchor_id']),
      anchorUuid: String(r['anchor_uuid']),
    }));
  }

  /** The root of each of `providerIds`. */
  async rootsOf(providerIds: Iterable<number>): Promise<Map<number, number>> {
    const rows = await this.sliced(
      'SELECT id, root_provider_id FROM resource_providers WHERE id IN ({ids})',
      providerIds,
    );
    return new Map(rows.map((r) => [num(r['id']), num(r['root_provider_id'])]));
  }

  /** (provider, trait) pairs of `providerIds`. */
  async traitsOf(providerIds: Iterable<number>): Promise<[number, number][]> {
    const rows = await this.sliced(
      'SELECT resource_provider_id, trait_id FROM resource_provider_traits WHERE resource_provider_id IN ({ids})',
      providerIds,
    );
    return rows.map((r) => [num(r['resource_provider_id']), num(r['trait_id'])]);
  }

  /**
   * Root providers having every trait of `required` and none of
   * `forbidden` (root_required, 1.35).
   */
  async rootsWithTraits(required: number[], forbidden: number[]): Promise<Set<number>> {
    const rows = await this.access.rows(
      `SELECT rp.id, rpt.trait_id FROM resource_providers rp
         LEFT JOIN resource_provider_traits rpt ON rp.id = rpt.resource_provider_id
        WHERE rp.parent_provider_id IS NULL`,
    );
    const traits = new Map<number, Set<number>>();
    for (const r of rows) {
      const id = num(r['id']);
      let set = traits.get(id);
      if (!set) traits.set(id, (set = new Set()));
      const t = numOrNull(r['trait_id']);
      if (t !== null) set.add(t);
    }
    const out = new Set<number>();
    for (const [id, has] of traits) {
      if (required.every((t) => has.has(t)) && !forbidden.some((t) => has.has(t))) out.add(id);
    }
    return out;
  }

  /** Every provider of the trees rooted at `rootIds`. */
  async providersOfTrees(rootIds: Iterable<number>): Promise<TreeProvider[]> {
    const rows = await this.sliced(
      `SELECT id, uuid, parent_provider_id, root_provider_id FROM resource_providers
        WHERE root_provider_id IN ({ids})`,
      rootIds,
    );
    return rows.map((r) => ({
      id: num(r['id']),
      uuid: String(r['uuid']),
      parentId: numOrNull(r['parent_provider_id']),
      rootId: num(r['root_provider_id']),
    }));
  }

  /**
   * Every provider × inventory of the trees rooted at `rootIds` with what
   * is allocated of it (get_usages_by_provider_trees); a provider without
   * inventory comes once, with a null class.
   */
  async usagesOfTrees(rootIds: Iterable<number>): Promise<TreeUsage[]> {
    const rows = await this.sliced(
      `SELECT rp.id AS rp_id, inv.resource_class_id AS rc_id, inv.total, inv.reserved,
              inv.allocation_ratio, inv.max_unit,
              (SELECT SUM(a.used) FROM allocations a
                WHERE a.resource_provider_id = inv.resource_provider_id
                  AND a.resource_class_id = inv.resource_class_id) AS used
         FROM resource_providers rp
         LEFT JOIN inventories inv ON rp.id = inv.resource_provider_id
        WHERE rp.root_provider_id IN ({ids})`,
      rootIds,
    );
    return rows.map((r) => ({
      providerId: num(r['rp_id']),
      classId: numOrNull(r['rc_id']),
      total: num(r['total']),
      reserved: num(r['reserved']),
      allocationRatio: num(r['allocation_ratio']),
      maxUnit: num(r['max_unit']),
      used: r['used'] === null || r['used'] === undefined ? 0 : num(r['used']),
    }));
  }

  /** (provider, trait) pairs of every provider of the trees rooted at `rootIds`. */
  async traitsOfTrees(rootIds: Iterable<number>): Promise<[number, number][]> {
    const rows = await this.sliced(
      `SELECT rpt.resource_provider_id, rpt.trait_id FROM resource_providers rp
         JOIN resource_provider_traits rpt ON rp.id = rpt.resource_provider_id
        WHERE rp.root_provider_id IN ({ids})`,
      rootIds,
    );
    return rows.map((r) => [num(r['resource_provider_id']), num(r['trait_id'])]);
  }
}
