/**
 * inventories: a provider's capacity per resource class, and the writes
 * placement's inventory objects make (objects/resource_provider.py's
 * _add/_update/_delete_inventory_*), with the allocation sums they consult.
 */
import { type Access, type DbTime, num, placeholders } from './base.js';

/** An inventory's six fields, in placement's order (its output and its INSERT alike). */
export const INVENTORY_FIELDS = [
  'total',
  'reserved',
  'min_unit',
  'max_unit',
  'step_size',
  'allocation_ratio',
] as const;

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

/** The columns a write sets (bounded by the request schema before they get here). */
export interface InventoryValues {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
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

  /**
   * Which of `classIds` the provider has allocations of, ascending by id
   * (the order MariaDB's GROUP BY gives placement's in-use message).
   */
  async classesInUse(providerId: number, classIds: readonly number[]): Promise<number[]> {
    if (classIds.length === 0) return [];
    const rows = await this.access.rows(
      `SELECT resource_class_id FROM allocations
        WHERE resource_provider_id = ? AND resource_class_id IN (${placeholders(classIds.length)})
        GROUP BY resource_class_id ORDER BY resource_class_id`,
      [providerId, ...classIds],
    );
    return rows.map((r) => num(r['resource_class_id']));
  }

  /** The sum of the provider's allocations of one class; null when it has none. */
  async used(providerId: number, classId: number): Promise<number | null> {
    const rows = await this.access.rows(
      `SELECT SUM(used) AS used FROM allocations
        WHERE resource_provider_id = ? AND resource_class_id = ?`,
      [providerId, classId],
    );
    const used = rows[0]?.['used'];
    return used === null || used === undefined ? null : num(used);
  }

  /** The sums of the provider's allocations per class, for the classes that have any. */
  async usedByClass(providerId: number, classIds: readonly number[]): Promise<Map<number, number>> {
    if (classIds.length === 0) return new Map();
    const rows = await this.access.rows(
      `SELECT resource_class_id, SUM(used) AS used FROM allocations
        WHERE resource_provider_id = ? AND resource_class_id IN (${placeholders(classIds.length)})
        GROUP BY resource_class_id`,
      [providerId, ...classIds],
    );
    return new Map(rows.map((r) => [num(r['resource_class_id']), num(r['used'])]));
  }

  /** Inserts one inventory row (created_at as placement sets it); a duplicate class throws the driver's unique violation. */
  async insert(providerId: number, classId: number, v: InventoryValues): Promise<void> {
    await this.access.run(
      `INSERT INTO inventories (created_at, resource_provider_id, resource_class_id, total, reserved,
                                min_unit, max_unit, step_size, allocation_ratio)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        this.access.now(),
        providerId,
        classId,
        v.total,
        v.reserved,
        v.min_unit,
        v.max_unit,
        v.step_size,
        v.allocation_ratio,
      ],
    );
  }

  /** Overwrites one inventory row; returns the rows matched (0: the provider has no such class). */
  async update(providerId: number, classId: number, v: InventoryValues): Promise<number> {
    return this.access.run(
      `UPDATE inventories
          SET updated_at = ?, total = ?, reserved = ?, min_unit = ?, max_unit = ?, step_size = ?,
              allocation_ratio = ?
        WHERE resource_provider_id = ? AND resource_class_id = ?`,
      [
        this.access.now(),
        v.total,
        v.reserved,
        v.min_unit,
        v.max_unit,
        v.step_size,
        v.allocation_ratio,
        providerId,
        classId,
      ],
    );
  }

  /** Deletes the provider's rows of `classIds`; returns how many there were. */
  async delete(providerId: number, classIds: readonly number[]): Promise<number> {
    if (classIds.length === 0) return 0;
    return this.access.run(
      `DELETE FROM inventories
        WHERE resource_provider_id = ? AND resource_class_id IN (${placeholders(classIds.length)})`,
      [providerId, ...classIds],
    );
  }
}
