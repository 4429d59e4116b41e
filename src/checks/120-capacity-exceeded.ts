import { providerLabel, resourceClassNames } from './support.js';
import { success, warning, type UpgradeCheck } from './types.js';

/** Providers listed by name in details; the count covers all. */
const SHOWN = 5;

/**
 * Where allocations already use more than an inventory's capacity,
 * (total − reserved) × allocation_ratio, placement refuses every new
 * allocation of that class on that provider: nova can no longer place
 * there. Common after an allocation ratio or reserved amount was changed.
 */
const capacityExceeded: UpgradeCheck = {
  title: 'Capacity Exceeded',
  gate: 'advisory',
  async run({ database: { knex } }) {
    const usage = knex('allocations')
      .select('resource_provider_id', 'resource_class_id')
      .sum({ used: 'used' })
      .groupBy('resource_provider_id', 'resource_class_id')
      .as('u');
    const rows = (await knex
      .from(usage)
      .join('resource_providers as p', 'p.id', 'u.resource_provider_id')
      .leftJoin('inventories as i', (j) =>
        j
          .on('i.resource_provider_id', '=', 'u.resource_provider_id')
          .andOn('i.resource_class_id', '=', 'u.resource_class_id'),
      )
      .where((q) =>
        q
          .whereNull('i.id')
          .orWhereRaw('?? > (?? - ??) * ??', [
            'u.used',
            'i.total',
            'i.reserved',
            'i.allocation_ratio',
          ]),
      )
      .select(
        'p.id',
        'p.uuid',
        'p.name',
        'u.resource_class_id as rc',
        'u.used',
        'i.id as inventory',
        'i.total',
        'i.reserved',
        'i.allocation_ratio as ratio',
      )
      .orderBy(['p.name', 'p.id', 'u.resource_class_id'])) as {
      id: number;
      uuid: string;
      name: string | null;
      rc: number | string;
      used: number | string;
      inventory: number | null;
      total: number | string | null;
      reserved: number | string | null;
      ratio: number | string | null;
    }[];
    if (rows.length === 0) return success();
    const names = await resourceClassNames(knex);
    const described = rows.slice(0, SHOWN).map((r) => {
      const cls = names.get(Number(r.rc)) ?? `resource class #${String(r.rc)}`;
      if (r.inventory === null) {
        return `${providerLabel(r)}: ${cls} used ${Number(r.used)} with no inventory`;
      }
      const capacity = (Number(r.total) - Number(r.reserved)) * Number(r.ratio);
      return `${providerLabel(r)}: ${cls} used ${Number(r.used)} of capacity ${formatCapacity(capacity)} (total ${Number(r.total)}, reserved ${Number(r.reserved)}, allocation_ratio ${formatCapacity(Number(r.ratio))})`;
    });
    const more = rows.length > SHOWN ? ` and ${rows.length - SHOWN} more` : '';
    const providers = new Set(rows.map((r) => r.id)).size;
    return warning(
      `Usage exceeds capacity for ${rows.length === 1 ? '1 resource class' : `${rows.length} resource classes`} on ${providers === 1 ? '1 resource provider' : `${providers} resource providers`}, so placement refuses new allocations of them there: ${described.join('; ')}${more}. Raise the allocation ratio or total, lower reserved (openstack resource provider inventory set, or the [DEFAULT] *_allocation_ratio options of nova-compute), or move or delete the stale allocations.`,
    );
  },
};

/** Capacity as a person reads it: whole numbers without a fraction, others to two places. */
function formatCapacity(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export default capacityExceeded;
