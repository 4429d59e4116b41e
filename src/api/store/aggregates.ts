/** placement_aggregates and resource_provider_aggregates. */
import { type Access, isStorable, num, placeholders } from './base.js';

export class AggregateStore {
  constructor(private readonly access: Access) {}

  async uuidsOfProvider(providerId: number): Promise<string[]> {
    const rows = await this.access.rows(
      `SELECT agg.uuid FROM placement_aggregates agg
         JOIN resource_provider_aggregates rpa
           ON agg.id = rpa.aggregate_id AND rpa.resource_provider_id = ?`,
      [providerId],
    );
    return rows.map((r) => r['uuid'] as string);
  }

  /** Internal ids of the aggregates that exist among `uuids`. */
  async idsOf(requested: string[]): Promise<Map<string, number>> {
    const uuids = requested.filter(isStorable);
    if (uuids.length === 0) return new Map();
    const rows = await this.access.rows(
      `SELECT uuid, id FROM placement_aggregates WHERE uuid IN (${placeholders(uuids.length)})`,
      uuids,
    );
    return new Map(rows.map((r) => [String(r['uuid']), num(r['id'])]));
  }
}
