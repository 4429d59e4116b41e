/**
 * The set queries behind provider search (placement's research_context):
 * which providers have traits, aggregates or capacity. GET
 * /resource_providers and /allocation_candidates both build on them.
 */
import { type Access, placeholders } from './base.js';

export class SearchStore {
  constructor(private readonly access: Access) {}

  /** Providers having, for every group, at least one of its traits. */
  async withTraitGroups(groups: number[][]): Promise<Set<number>> {
    const joins: string[] = [];
    const bindings: number[] = [];
    groups.forEach((ids, i) => {
      joins.push(
        `JOIN resource_provider_traits rpt${i} ON rp.id = rpt${i}.resource_provider_id AND rpt${i}.trait_id IN (${placeholders(ids.length)})`,
      );
      bindings.push(...ids);
    });
    return new Set(
      await this.access.integers(
        `SELECT rp.id FROM resource_providers rp ${joins.join(' ')}`,
        ['id'],
        bindings,
      ),
    );
  }

  /** Providers having any of the traits. */
  async withAnyTrait(traitIds: number[]): Promise<Set<number>> {
    return new Set(
      await this.access.integers(
        `SELECT resource_provider_id FROM resource_provider_traits WHERE trait_id IN (${placeholders(traitIds.length)}) GROUP BY resource_provider_id`,
        ['resource_provider_id'],
        traitIds,
      ),
    );
  }

  /** Providers associated, for every group, with at least one of its aggregates. */
  async inAggregateGroups(groups: number[][]): Promise<Set<number>> {
    const joins: string[] = [];
    const bindings: number[] = [];
    groups.forEach((ids, i) => {
      joins.push(
        `JOIN resource_provider_aggregates rpa${i} ON rp.id = rpa${i}.resource_provider_id AND rpa${i}.aggregate_id IN (${placeholders(ids.length)})`,
      );
      bindings.push(...ids);
    });
    return new Set(
      await this.access.integers(
        `SELECT rp.id FROM resource_providers rp ${joins.join(' ')}`,
        ['id'],
        bindings,
      ),
    );
  }

  /** Providers with capacity for `amount` of a class (research_context.get_providers_with_resource). */
  async withCapacity(rcId: number, amount: number): Promise<Set<number>> {
    const found = await this.access.integers(
      `SELECT rp.id FROM resource_providers rp
         JOIN inventories inv ON rp.id = inv.resource_provider_id AND inv.resource_class_id = ?
         LEFT JOIN (SELECT resource_provider_id, resource_class_id, SUM(used) AS used
                      FROM allocations WHERE resource_class_id IN (?)
                     GROUP BY resource_provider_id, resource_class_id) used_sum
           ON inv.resource_provider_id = used_sum.resource_provider_id
        WHERE COALESCE(used_sum.used, 0) + ? <= (inv.total - inv.reserved) * inv.allocation_ratio
          AND inv.min_unit <= ? AND inv.max_unit >= ? AND ? % inv.step_size = 0`,
      ['id'],
      [rcId, rcId, amount, amount, amount, amount],
    );
    return new Set(found);
  }
}
