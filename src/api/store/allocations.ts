/**
 * allocations, as a provider's and as a consumer's, with their consumers'
 * details; and the writes of placement's AllocationList.replace_all: a
 * consumer's rows removed and written anew, after the capacity check's
 * read of inventories and usage.
 */
import { type Access, type DbTime, num, numOrNull, placeholders } from './base.js';

export interface ProviderAllocationRow {
  resource_class_id: number;
  used: number;
  consumer_uuid: string;
  consumer_generation: number | null;
  updated_at: DbTime;
  created_at: DbTime;
}

export interface ConsumerAllocationRow {
  id: number;
  resource_provider_id: number;
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
      `SELECT a.id, a.resource_provider_id,
              rp.uuid AS resource_provider_uuid, rp.generation AS resource_provider_generation,
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
      id: num(r['id']),
      resource_provider_id: num(r['resource_provider_id']),
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

  /**
   * The ids of a consumer's allocation rows. Removing them by id rather
   * than by consumer keeps MySQL from gap-locking the consumer index, on
   * which two writers of new consumers would deadlock.
   */
  async idsOfConsumer(consumerUuid: string): Promise<number[]> {
    const rows = await this.access.rows('SELECT id FROM allocations WHERE consumer_id = ?', [
      consumerUuid,
    ]);
    return rows.map((r) => num(r['id']));
  }

  /** Removes allocations by their ids (DELETE /allocations/{consumer_uuid}). */
  async deleteByIds(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.access.run(`DELETE FROM allocations WHERE id IN (${placeholders(ids.length)})`, ids);
  }

  async insert(row: NewAllocation): Promise<void> {
    await this.access.insert('allocations', {
      resource_provider_id: row.providerId,
      resource_class_id: row.classId,
      consumer_id: row.consumerUuid,
      used: row.used,
      created_at: this.access.now(),
    });
  }

  /**
   * The inventories of the providers in the classes asked for, each with
   * what is allocated from it now (null when nothing): the one read of
   * placement's _check_capacity_exceeded.
   */
  async capacity(
    providerIds: readonly number[],
    classIds: readonly number[],
  ): Promise<CapacityRow[]> {
    if (providerIds.length === 0 || classIds.length === 0) return [];
    const rps = placeholders(providerIds.length);
    const rcs = placeholders(classIds.length);
    const rows = await this.access.rows(
      `SELECT rp.id AS resource_provider_id, rp.uuid, rp.generation, inv.resource_class_id,
              inv.total, inv.reserved, inv.allocation_ratio, inv.min_unit, inv.max_unit,
              inv.step_size, u_sum.used
         FROM resource_providers rp
         JOIN inventories inv
           ON rp.id = inv.resource_provider_id AND inv.resource_class_id IN (${rcs})
         LEFT JOIN (SELECT resource_provider_id, resource_class_id, SUM(used) AS used
                      FROM allocations
                     WHERE resource_class_id IN (${rcs}) AND resource_provider_id IN (${rps})
                     GROUP BY resource_provider_id, resource_class_id) u_sum
           ON inv.resource_provider_id = u_sum.resource_provider_id
          AND inv.resource_class_id = u_sum.resource_class_id
        WHERE rp.id IN (${rps}) AND inv.resource_class_id IN (${rcs})`,
      [...classIds, ...classIds, ...providerIds, ...providerIds, ...classIds],
    );
    return rows.map((r) => ({
      resource_provider_id: num(r['resource_provider_id']),
      uuid: String(r['uuid']),
      resource_class_id: num(r['resource_class_id']),
      total: num(r['total']),
      reserved: num(r['reserved']),
      allocation_ratio: num(r['allocation_ratio']),
      min_unit: num(r['min_unit']),
      max_unit: num(r['max_unit']),
      step_size: num(r['step_size']),
      used: numOrNull(r['used']),
    }));
  }
}

/** One allocation row to write. */
export interface NewAllocation {
  providerId: number;
  classId: number;
  consumerUuid: string;
  used: number;
}

/** An inventory with its current usage, as the capacity check reads it. */
export interface CapacityRow {
  resource_provider_id: number;
  uuid: string;
  resource_class_id: number;
  total: number;
  reserved: number;
  allocation_ratio: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  used: number | null;
}
