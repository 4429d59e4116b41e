/**
 * The reads behind GET /allocation_candidates (placement's research_context
 * and allocation_candidate queries): providers with capacity for one
 * amount, sharing providers and the trees they anchor, trait and aggregate
 * sets, and the usages, providers and traits of whole trees for the
 * provider summaries. Id lists are bound in slices, so ten thousand
 * compute nodes stay within every engine's limit on bound parameters.
 */
import { type Access, num, numOrNull, placeholders } from './base.js';

/** Flat [a, b, a, b, …] values as [a, b] pairs. */
function pairs(flat: readonly number[]): [number, number][] {
  const out = new Array<[number, number]>(flat.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = [flat[2 * i]!, flat[2 * i + 1]!];
  return out;
}

/** Whether a slice of usagesOfTrees came packed (fields as text) or as rows. */
function isPacked(slice: string[][] | Record<string, unknown>[]): slice is string[][] {
  return slice.length > 0 && Array.isArray(slice[0]);
}

/** A provider and the root of its tree (or, for a sharing provider, a tree it anchors). */
export type ProviderAndRoot = [id: number, rootId: number];

export interface TreeProvider {
  id: number;
  uuid: string;
  parentId: number | null;
  rootId: number;
}

/** One inventory of a provider of a tree, with what is used of it. */
export interface TreeUsage {
  providerId: number;
  classId: number;
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

/**
 * Every provider of some trees (`{ids}`: the roots) with each of its
 * inventories; a provider without inventory comes once, with class -1 (and
 * no ratio: a COALESCE would change a MySQL FLOAT's type, and with it the
 * digits the driver reads). What is allocated is USED_IN_TREES' to read.
 */
const INVENTORIES_OF_TREES = `SELECT rp.id AS rp_id, rp.uuid, COALESCE(rp.parent_provider_id, -1) AS parent_id,
       rp.root_provider_id, COALESCE(inv.resource_class_id, -1) AS rc_id,
       COALESCE(inv.total, 0) AS total, COALESCE(inv.reserved, 0) AS reserved,
       inv.allocation_ratio, COALESCE(inv.max_unit, 0) AS max_unit
  FROM resource_providers rp
  LEFT JOIN inventories inv ON rp.id = inv.resource_provider_id
 WHERE {ids}`;

/**
 * What is allocated of each class on the providers of some trees, read
 * beside INVENTORIES_OF_TREES on a connection of its own rather than as a
 * subquery of it (on PostgreSQL the subquery, run once per inventory, was
 * a third of that statement's time even with no allocation at all).
 */
const USED_IN_TREES = `SELECT a.resource_provider_id, a.resource_class_id, SUM(a.used) AS used
  FROM resource_providers rp
  JOIN allocations a ON a.resource_provider_id = rp.id
 WHERE {ids}
 GROUP BY a.resource_provider_id, a.resource_class_id`;

const USAGE_COLUMNS = [
  { name: 'rp_id' },
  { name: 'uuid' },
  { name: 'parent_id' },
  { name: 'root_provider_id' },
  { name: 'rc_id' },
  { name: 'total' },
  { name: 'reserved' },
  { name: 'allocation_ratio', float: true },
  { name: 'max_unit' },
];

export class CandidateStore {
  constructor(private readonly access: Access) {}

  /**
   * Runs `sql` (with `{ids}` where the condition "`column` among `ids`"
   * goes) once per slice the engine needs (Access.idList), rows concatenated
   * in slice order. The slices run side by side, each on a connection of its
   * own (in a transaction, one after another on its connection): ten thousand
   * providers are five slices on MySQL, whose server then works on both cores.
   */
  private async sliced(
    sql: string,
    column: string,
    ids: Iterable<number>,
  ): Promise<Record<string, unknown>[]> {
    const slices = await Promise.all(
      this.access
        .idList(column, ids)
        .map((list) => this.access.rows(sql.replace('{ids}', list.sql), list.bindings)),
    );
    return slices.length === 1 ? slices[0]! : slices.flat();
  }

  /** As sliced(), for integer columns read packed (Access.integers): flat values. */
  private async slicedIntegers(
    sql: string,
    columns: readonly string[],
    column: string,
    ids: Iterable<number>,
  ): Promise<number[]> {
    const slices = await Promise.all(
      this.access
        .idList(column, ids)
        .map((list) =>
          this.access.integers(sql.replace('{ids}', list.sql), columns, list.bindings),
        ),
    );
    if (slices.length === 1) return slices[0]!;
    const out: number[] = [];
    for (const values of slices) for (const v of values) out.push(v);
    return out;
  }

  /**
   * For each [class, amount] of `amounts`, the providers (with their root)
   * that can take that amount of that class: capacity (total − reserved) ×
   * ratio beyond what is used, within min_unit/max_unit and a multiple of
   * step_size; within one tree if given. One statement for every class (a
   * round trip each is what a search costs most), each class read as
   * placement reads it. `flat`: no provider has a parent, so each is its
   * own root and the providers table need not be joined (on PostgreSQL that
   * join was most of the statement's time: an index probe per inventory).
   */
  async withResources(
    amounts: readonly (readonly [classId: number, amount: number])[],
    options: { treeRootId?: number; flat: boolean },
  ): Promise<Map<number, ProviderAndRoot[]>> {
    const { treeRootId, flat } = options;
    const out = new Map<number, ProviderAndRoot[]>(amounts.map(([id]) => [id, []]));
    if (amounts.length === 0) return out;
    const fits = amounts.map(
      () =>
        `(inv.resource_class_id = ? AND COALESCE(used_sum.used, 0) + ? <= (inv.total - inv.reserved) * inv.allocation_ratio
          AND inv.min_unit <= ? AND inv.max_unit >= ? AND ? % inv.step_size = 0)`,
    );
    const classIds = amounts.map(([id]) => id);
    const found = await this.access.integers(
      `SELECT inv.resource_class_id, inv.resource_provider_id AS id,
              ${flat ? 'inv.resource_provider_id' : 'rp.root_provider_id'} AS root_provider_id
         FROM inventories inv
         ${flat ? '' : 'JOIN resource_providers rp ON rp.id = inv.resource_provider_id'}
         LEFT JOIN (SELECT resource_provider_id, resource_class_id, SUM(used) AS used FROM allocations
                     WHERE resource_class_id IN (${placeholders(classIds.length)})
                     GROUP BY resource_provider_id, resource_class_id) used_sum
           ON inv.resource_provider_id = used_sum.resource_provider_id
          AND inv.resource_class_id = used_sum.resource_class_id
        WHERE (${fits.join(' OR ')})${treeRootId === undefined ? '' : ` AND ${flat ? 'inv.resource_provider_id' : 'rp.root_provider_id'} = ?`}`,
      ['resource_class_id', 'id', 'root_provider_id'],
      [
        ...classIds,
        ...amounts.flatMap(([id, amount]) => [id, amount, amount, amount, amount]),
        ...(treeRootId === undefined ? [] : [treeRootId]),
      ],
    );
    for (let i = 0; i < found.length; i += 3) {
      out.get(found[i]!)!.push([found[i + 1]!, found[i + 2]!]);
    }
    return out;
  }

  /** Providers (with their root) among `allowed` (all when empty) and not in `forbidden`. */
  async withRoot(allowed: Set<number>, forbidden: Set<number>): Promise<ProviderAndRoot[]> {
    const all = await this.access.integers('SELECT id, root_provider_id FROM resource_providers', [
      'id',
      'root_provider_id',
    ]);
    return pairs(all).filter(
      ([id]) => (allowed.size === 0 || allowed.has(id)) && !forbidden.has(id),
    );
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
    return new Set(
      await this.access.integers(
        'SELECT resource_provider_id FROM resource_provider_traits WHERE trait_id = ?',
        ['resource_provider_id'],
        [traitId],
      ),
    );
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
        WHERE {ids}`,
      'sps.id',
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
    const found = await this.slicedIntegers(
      'SELECT id, root_provider_id FROM resource_providers WHERE {ids}',
      ['id', 'root_provider_id'],
      'id',
      providerIds,
    );
    return new Map(pairs(found));
  }

  /** (provider, trait) pairs of `providerIds`. */
  async traitsOf(providerIds: Iterable<number>): Promise<[number, number][]> {
    return pairs(
      await this.slicedIntegers(
        'SELECT resource_provider_id, trait_id FROM resource_provider_traits WHERE {ids}',
        ['resource_provider_id', 'trait_id'],
        'resource_provider_id',
        providerIds,
      ),
    );
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

  /**
   * Every provider of the trees rooted at `rootIds`, and each one's
   * inventories with what is allocated of them
   * (get_usages_by_provider_trees); a provider without inventory has no
   * usage. One statement: the providers come with their inventory rows.
   */
  async usagesOfTrees(
    rootIds: Iterable<number>,
  ): Promise<{ providers: TreeProvider[]; usages: TreeUsage[] }> {
    const providers: TreeProvider[] = [];
    const usages: TreeUsage[] = [];
    const seen = new Set<number>();
    const add = (
      providerId: number,
      uuid: string,
      parentId: number | null,
      rootId: number,
      usage: Omit<TreeUsage, 'providerId'> | null,
    ) => {
      if (!seen.has(providerId)) {
        seen.add(providerId);
        providers.push({ id: providerId, uuid, parentId, rootId });
      }
      if (usage) usages.push({ providerId, ...usage });
    };
    const roots = [...rootIds];
    // Thousands of rows of nine columns: packed by the server where it can
    // write the ratio exactly (parsing them one by one cost more than the query).
    const inventories = Promise.all(
      this.access.idList('rp.root_provider_id', roots).map(async (list) => {
        const sql = INVENTORIES_OF_TREES.replace('{ids}', list.sql);
        const packed = await this.access.packedText(sql, USAGE_COLUMNS, list.bindings);
        return packed ?? (await this.access.rows(sql, list.bindings));
      }),
    );
    inventories.catch(() => undefined); // awaited below, after the sums
    const sums = await this.slicedIntegers(
      USED_IN_TREES,
      ['resource_provider_id', 'resource_class_id', 'used'],
      'rp.root_provider_id',
      roots,
    );
    const slices = await inventories;
    // Used by provider, then class: looked up once per inventory.
    const usedBy = new Map<number, Map<number, number>>();
    for (let i = 0; i < sums.length; i += 3) {
      let byClass = usedBy.get(sums[i]!);
      if (!byClass) usedBy.set(sums[i]!, (byClass = new Map()));
      byClass.set(sums[i + 1]!, sums[i + 2]!);
    }
    const used = (providerId: number, classId: number) => usedBy.get(providerId)?.get(classId) ?? 0;
    for (const slice of slices) {
      if (isPacked(slice)) {
        const packed = slice;
        for (const f of packed) {
          const classId = Number(f[4]);
          add(
            Number(f[0]),
            f[1]!,
            f[2] === '-1' ? null : Number(f[2]),
            Number(f[3]),
            classId < 0
              ? null
              : {
                  classId,
                  total: Number(f[5]),
                  reserved: Number(f[6]),
                  allocationRatio: Number(f[7]),
                  maxUnit: Number(f[8]),
                  used: used(Number(f[0]), classId),
                },
          );
        }
        continue;
      }
      for (const r of slice) {
        const classId = num(r['rc_id']);
        add(
          num(r['rp_id']),
          String(r['uuid']),
          num(r['parent_id']) < 0 ? null : num(r['parent_id']),
          num(r['root_provider_id']),
          classId < 0
            ? null
            : {
                classId,
                total: num(r['total']),
                reserved: num(r['reserved']),
                allocationRatio: num(r['allocation_ratio']),
                maxUnit: num(r['max_unit']),
                used: used(num(r['rp_id']), classId),
              },
        );
      }
    }
    return { providers, usages };
  }

  /** (provider, trait) pairs of every provider of the trees rooted at `rootIds`. */
  async traitsOfTrees(rootIds: Iterable<number>): Promise<[number, number][]> {
    return pairs(
      await this.slicedIntegers(
        `SELECT rpt.resource_provider_id, rpt.trait_id FROM resource_providers rp
           JOIN resource_provider_traits rpt ON rp.id = rpt.resource_provider_id
          WHERE {ids}`,
        ['resource_provider_id', 'trait_id'],
        'rp.root_provider_id',
        rootIds,
      ),
    );
  }
}
