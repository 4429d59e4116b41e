/** placement_aggregates and resource_provider_aggregates. */
import { type Access, isStorable, num, placeholders } from './base.js';

export class AggregateStore {
  constructor(private readonly access: Access) {}

  async uuidsOfProvider(providerId: number): Promise<string[]> {
    return (await this.ofProvider(providerId)).map((a) => a.uuid);
  }

  /** The aggregates a provider is associated with, with their internal ids. */
  async ofProvider(providerId: number): Promise<{ id: number; uuid: string }[]> {
    const rows = await this.access.rows(
      `SELECT agg.id, agg.uuid FROM placement_aggregates agg
         JOIN resource_provider_aggregates rpa
           ON agg.id = rpa.aggregate_id AND rpa.resource_provider_id = ?`,
      [providerId],
    );
    return rows.map((r) => ({ id: num(r['id']), uuid: String(r['uuid']) }));
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

  /**
   * The id of the aggregate with this UUID, inserting it when there is none
   * (_ensure_aggregate). A unique violation means another writer inserted it
   * first: the caller runs its transaction again.
   */
  async ensure(uuid: string): Promise<number> {
    const rows = await this.access.rows('SELECT id FROM placement_aggregates WHERE uuid = ?', [
      uuid,
    ]);
    if (rows[0]) return num(rows[0]['id']);
    return this.access.insert('placement_aggregates', { uuid, created_at: this.access.now() });
  }

  async associate(providerId: number, aggregateId: number): Promise<void> {
    await this.access.run(
      'INSERT INTO resource_provider_aggregates (resource_provider_id, aggregate_id, created_at) VALUES (?, ?, ?)',
      [providerId, aggregateId, this.access.now()],
    );
  }

  async dissociate(providerId: number, aggregateIds: number[]): Promise<void> {
    if (aggregateIds.length === 0) return;
    await this.access.run(
      `DELETE FROM resource_provider_aggregates WHERE resource_provider_id = ? AND aggregate_id IN (${placeholders(aggregateIds.length)})`,
      [providerId, ...aggregateIds],
    );
  }
}
