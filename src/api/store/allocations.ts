/** allocations, as a provider's and as a consumer's, with their consumers' details. */
import { type Access, type DbTime, num, numOrNull } from './base.js';

export interface ProviderAllocationRow {
  resource_class_id: number;
  used: number;
  consumer_uuid: string;
  consumer_generation: number | null;
  updated_at: DbTime;
  created_at: DbTime;
}

export interface ConsumerAllocationRow {
  resource_provider_uuid: string;
  resource_provider_generation: number | null;
  resource_class_id: number;
  used: number;
  consumer_generation: number | null;
  consumer_type_id: number | null;
  project_external_id: string;
  user_external_id: string;
  updated_at: DbTime;
  created_at: DbTime;
}

export class AllocationStore {
  constructor(private readonly access: Access) {}

  /** A provider's allocations; consumers without project or user rows are hidden, as in placement. */
  async ofProvider(providerId: number): Promise<ProviderAllocationRow[]> {
    const rows = await this.access.rows(
      `SELECT a.resource_class_id, a.used, a.updated_at, a.created_at,
              c.generation AS consumer_generation, COALESCE(c.uuid, a.consumer_id) AS consumer_uuid
         FROM allocations a
         JOIN consumers c ON a.consumer_id = c.uuid
         JOIN projects p ON c.project_id = p.id
         JOIN users u ON c.user_id = u.id
        WHERE a.resource_provider_id = ?`,
      [providerId],
    );
    return rows.map((r) => ({
      resource_class_id: num(r['resource_class_id']),
      used: num(r['used']),
      consumer_uuid: String(r['consumer_uuid']),
      consumer_generation: numOrNull(r['consumer_generation']),
      updated_at: r['updated_at'] as DbTime,
      created_at: r['created_at'] as DbTime,
    }));
  }

  async ofConsumer(consumerUuid: string): Promise<ConsumerAllocationRow[]> {
    const typeColumn = (await this.access.schema.hasConsumerTypes())
      ? 'c.consumer_type_id'
      : 'NULL AS consumer_type_id';
    const rows = await this.access.rows(
      `SELECT rp.uuid AS resource_provider_uuid, rp.generation AS resource_provider_generation,
              a.resource_class_id, a.used, a.updated_at, a.created_at,
              c.generation AS consumer_generation, ${typeColumn},
              p.external_id AS project_external_id, u.external_id AS user_external_id
         FROM allocations a
         JOIN resource_providers rp ON a.resource_provider_id = rp.id
         JOIN consumers c ON a.consumer_id = c.uuid
         JOIN projects p ON c.project_id = p.id
         JOIN users u ON c.user_id = u.id
        WHERE a.consumer_id = ?`,
      [consumerUuid],
    );
    return rows.map((r) => ({
      resource_provider_uuid: String(r['resource_provider_uuid']),
      resource_provider_generation: numOrNull(r['resource_provider_generation']),
      resource_class_id: num(r['resource_class_id']),
      used: num(r['used']),
      consumer_generation: numOrNull(r['consumer_generation']),
      consumer_type_id: numOrNull(r['consumer_type_id']),
      project_external_id: String(r['project_external_id']),
      user_external_id: String(r['user_external_id']),
      updated_at: r['updated_at'] as DbTime,
      created_at: r['created_at'] as DbTime,
    }));
  }
}
