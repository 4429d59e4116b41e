import type { Knex } from 'knex';
import { countRows, providerLabel, resourceClassNames } from './support.js';
import { failure, success, type UpgradeCheck } from './types.js';

/** Placement's limits (placement/db/constants.py): a 32-bit integer, a single-precision float. */
const MAX_INT = 0x7fffffff;
const SQL_SP_FLOAT_MAX = 3.40282e38;
const SHOWN = 5;

interface InventoryRow {
  id: number;
  uuid: string;
  name: string | null;
  rc: number | string;
  total: number | string;
  reserved: number | string;
  min_unit: number | string;
  max_unit: number | string;
  step_size: number | string;
  ratio: number | string;
}

/** The inventories placement's API would refuse today (schema and capacity checks, microversion ≥ 1.26). */
function invalid(knex: Knex): Knex.QueryBuilder {
  return knex('inventories as i')
    .leftJoin('resource_providers as p', 'p.id', 'i.resource_provider_id')
    .where((q) =>
      q
        .where('i.total', '<', 1)
        .orWhere('i.total', '>', MAX_INT)
        .orWhere('i.reserved', '<', 0)
        .orWhere('i.min_unit', '<', 1)
        .orWhere('i.max_unit', '<', 1)
        .orWhere('i.step_size', '<', 1)
        .orWhere('i.allocation_ratio', '>', SQL_SP_FLOAT_MAX)
        .orWhereRaw('(?? - ??) * ?? < 0', ['i.total', 'i.reserved', 'i.allocation_ratio']),
    );
}

/** Why placement refuses one inventory, in its own terms. */
function problems(r: InventoryRow): string[] {
  const n = (v: number | string) => Number(v);
  const out: string[] = [];
  if (n(r.total) < 1 || n(r.total) > MAX_INT) out.push(`total ${n(r.total)}`);
  if (n(r.reserved) < 0) out.push(`reserved ${n(r.reserved)}`);
  if (n(r.min_unit) < 1) out.push(`min_unit ${n(r.min_unit)}`);
  if (n(r.max_unit) < 1) out.push(`max_unit ${n(r.max_unit)}`);
  if (n(r.step_size) < 1) out.push(`step_size ${n(r.step_size)}`);
  if (n(r.ratio) > SQL_SP_FLOAT_MAX) out.push(`allocation_ratio ${n(r.ratio)}`);
  if ((n(r.total) - n(r.reserved)) * n(r.ratio) < 0) {
    out.push(
      n(r.reserved) > n(r.total)
        ? `reserved ${n(r.reserved)} above total ${n(r.total)}`
        : `allocation_ratio ${n(r.ratio)} makes the capacity negative`,
    );
  }
  return out;
}

/**
 * Inventory values that placement's API rejects today: below the minimum of
 * 1 (total, min_unit, max_unit, step_size), negative reserved, reserved
 * above total, out-of-range numbers. nova copied them in long ago; the next
 * inventory update from nova-compute that repeats them fails, and a
 * step_size of 0 breaks allocation checks.
 */
const inventoryConstraints: UpgradeCheck = {
  title: 'Inventory Constraints',
  gate: 'advisory',
  async run({ database: { knex } }) {
    const total = await countRows(invalid(knex));
    if (total === 0) return success();
    const rows = (await invalid(knex)
      .select(
        'i.resource_provider_id as id',
        'p.uuid',
        'p.name',
        'i.resource_class_id as rc',
        'i.total',
        'i.reserved',
        'i.min_unit',
        'i.max_unit',
        'i.step_size',
        'i.allocation_ratio as ratio',
      )
      .orderBy(['i.resource_provider_id', 'i.resource_class_id'])
      .limit(SHOWN)) as InventoryRow[];
    const names = await resourceClassNames(knex);
    const described = rows.map(
      (r) =>
        `${providerLabel(r)} ${names.get(Number(r.rc)) ?? `resource class #${String(r.rc)}`}: ${problems(r).join(', ')}`,
    );
    const more = total > SHOWN ? ` and ${total - SHOWN} more` : '';
    return failure(
      `${total === 1 ? '1 inventory has' : `${total} inventories have`} values that placement rejects (total, min_unit, max_unit and step_size at least 1, reserved from 0 to total, everything within placement's limits): ${described.join('; ')}${more}. Correct them, e.g. UPDATE inventories SET step_size = 1 WHERE step_size < 1; or let nova-compute report its inventory again after fixing its configuration.`,
    );
  },
};

export default inventoryConstraints;
