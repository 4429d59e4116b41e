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

/** forWrite's answer. */
export interface InventoryWriteBasis {
  /** The provider's inventories by class id: the class's name and what is allocated of it. */
  held: Map<number, { name: string | null; used: number | null }>;
  /** Class name → id, for the names asked that exist. */
  classIds: Map<string, number>;
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

  /**
   * What a whole-set write starts from, in one read: every inventory the
   * provider holds (its class's name, null for a class id with no row, and
   * the sum of its allocations, null when it has none), and the ids of the
   * classes in `names` (matched exactly: MySQL's IN would ignore case).
   */
  async forWrite(providerId: number, names: readonly string[]): Promise<InventoryWriteBasis> {
    const classes =
      names.length === 0
        ? ''
        : `UNION ALL
           SELECT 0, id, name, NULL FROM resource_classes WHERE name IN (${placeholders(names.length)})`;
    const rows = await this.access.rows(
      `SELECT 1 AS held, i.resource_class_id AS id, rc.name AS name,
              (SELECT SUM(a.used) FROM allocations a
                WHERE a.resource_provider_id = i.resource_provider_id
                  AND a.resource_class_id = i.resource_class_id) AS used
         FROM inventories i LEFT JOIN resource_classes rc ON rc.id = i.resource_class_id
        WHERE i.resource_provider_id = ?
       ${classes}`,
      [providerId, ...names],
    );
    const basis: InventoryWriteBasis = { held: new Map(), classIds: new Map() };
    const wanted = new Set(names);
    for (const r of rows) {
      const id = num(r['id']);
      const name = r['name'] === null ? null : String(r['name']);
      if (num(r['held']) === 1) {
        basis.held.set(id, { name, used: r['used'] === null ? null : num(r['used']) });
      } else if (name !== null && wanted.has(name)) {
        basis.classIds.set(name, id);
      }
    }
    return basis;
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

  /**
   * Overwrites the provider's rows of the classes given, in one statement
   * (its row locks taken in index order, class id ascending); returns the
   * rows matched, fewer than given when a class is gone.
   */
  async updateMany(
    providerId: number,
    updates: readonly (readonly [classId: number, values: InventoryValues])[],
  ): Promise<number> {
    if (updates.length === 0) return 0;
    const bindings: unknown[] = [this.access.now()];
    // ELSE keeps the column: it is never taken (the WHERE names the same
    // classes), but it gives PostgreSQL the type of the untyped parameters.
    const sets = INVENTORY_FIELDS.map((field) => {
      const whens = updates.map(([classId, values]) => {
        bindings.push(classId, values[field]);
        return 'WHEN ? THEN ?';
      });
      return `${field} = CASE resource_class_id ${whens.join(' ')} ELSE ${field} END`;
    });
    bindings.push(providerId, ...updates.map(([classId]) => classId));
    return this.access.run(
      `UPDATE inventories SET updated_at = ?, ${sets.join(', ')}
        WHERE resource_provider_id = ? AND resource_class_id IN (${placeholders(updates.length)})`,
      bindings,
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
