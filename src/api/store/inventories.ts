/** inventories: a provider's capacity per resource class. */
import { type Access, type DbTime, num } from './base.js';

export interface InventoryRow {
  resource_class_id: number;
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
  updated_at: DbTime;
  created_at: DbTime;
}

export class InventoryStore {
  constructor(private readonly access: Access) {}

  async ofProvider(providerId: number): Promise<InventoryRow[]> {
    const rows = await this.access.rows(
      `SELECT resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio,
              updated_at, created_at
         FROM inventories WHERE resource_provider_id = ?`,
      [providerId],
    );
    return rows.map((r) => ({
      resource_class_id: num(r['resource_class_id']),
      total: num(r['total']),
      reserved: num(r['reserved']),
      min_unit: num(r['min_unit']),
      max_unit: num(r['max_unit']),
      step_size: num(r['step_size']),
      allocation_ratio: num(r['allocation_ratio']),
      updated_at: r['updated_at'] as DbTime,
      created_at: r['created_at'] as DbTime,
    }));
  }
}
