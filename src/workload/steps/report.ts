/**
 * nova-compute's periodic inventory report (the resource tracker's
 * update_to_placement): the tree by in_tree, each provider's inventories,
 * aggregates and traits, the sharing providers of its aggregates, the
 * allocations of the tree and each consumer's, then a PUT only for what
 * changed. Over unchanged data that writes nothing: every generation stays.
 * Then one real change and its reversal on one host, with a stale
 * generation in between that placement must refuse with 409.
 */
import { expectStatus, StepFailure } from '../failure.js';
import { INVENTORY_FIELDS } from '../../api/store/inventories.js';
import { NOVA, type Inventories, type InventoryRecord } from '../placement.js';
import type { StepEffects, WorkloadContext } from '../context.js';

const FIELDS: readonly (keyof InventoryRecord)[] = INVENTORY_FIELDS;

/** ProviderTree.has_inventory_changed: other classes, or a differing field. */
function inventoryChanged(cached: Inventories, reported: Inventories): boolean {
  const a = Object.keys(cached).sort();
  const b = Object.keys(reported).sort();
  if (a.join() !== b.join()) return true;
  return b.some((rc) => FIELDS.some((f) => reported[rc]![f] !== cached[rc]![f]));
}

export async function report(ctx: WorkloadContext): Promise<StepEffects> {
  let reads = 0;
  for (const node of ctx.sampled) reads += await reportUnchanged(ctx, node.ref.uuid);
  // A node of the data on a scratch copy (a new one when the cloud has none); the run's own on a live service.
  const changed =
    (ctx.mode === 'scratch' ? ctx.sampled[0]?.ref.uuid : undefined) ?? ctx.hosts[0]?.uuid;
  const touched = new Set<string>();
  if (changed) {
    await reportChangeAndBack(ctx, changed);
    touched.add(changed);
  }
  return {
    touched,
    bumped: new Set(touched),
    summary: `${ctx.sampled.length} compute nodes reported unchanged (${reads} reads, no write); one inventory changed and changed back, a stale generation refused`,
  };
}

/** One report over data placement already has: reads, and no write. */
async function reportUnchanged(ctx: WorkloadContext, uuid: string): Promise<number> {
  const p = ctx.p;
  const before = p.requests;
  const tree = await p.tree(uuid);
  const listing = p.exchanges.at(-1);
  const node = tree.find((r) => r.uuid === uuid);
  if (!node)
    throw new StepFailure(`GET ?in_tree=${uuid} does not list the compute node itself`, listing);
  if (node.root !== uuid || node.parent !== null) {
    throw new StepFailure(
      `compute node ${uuid} (${node.name}) has root ${node.root}: nova-compute would see another tree than its own`,
      listing,
      { expected: uuid, actual: node.root },
    );
  }
  for (const rp of tree) {
    if (rp.root !== uuid) {
      throw new StepFailure(
        `provider ${rp.uuid} in the tree of ${uuid} names root ${rp.root}`,
        listing,
      );
    }
    const was = ctx.baseline.providers.get(rp.uuid);
    const [inv, aggs, traits] = await Promise.all([
      p.inventories(rp.uuid),
      p.aggregates(rp.uuid),
      p.traits(rp.uuid),
    ]);
    if (aggs.aggregates.length > 0) {
      await p.providers(
        `member_of=in:${aggs.aggregates.join(',')}&required=MISC_SHARES_VIA_AGGREGATE`,
        NOVA.sharing,
      );
    }
    // What the driver reports is what placement holds: nothing to PUT.
    if (was && inventoryChanged(was.inventories, inv.inventories)) {
      throw new StepFailure(
        `the inventories of ${rp.uuid} changed between two reads with nothing written`,
        p.exchanges.find((e) => e.path === `/resource_providers/${rp.uuid}/inventories`),
        { expected: was.inventories, actual: inv.inventories },
      );
    }
    if (was && [...traits.traits].sort().join() !== was.traits.join()) {
      throw new StepFailure(
        `the traits of ${rp.uuid} changed with nothing written`,
        p.exchanges.at(-1),
        {
          expected: was.traits,
          actual: traits.traits,
        },
      );
    }
    const allocations = await p.providerAllocations(rp.uuid);
    for (const c of Object.keys(allocations.allocations)) await p.consumer(c);
  }
  const after = await p.provider(uuid);
  if (after && after.generation !== node.generation) {
    throw new StepFailure(
      `compute node ${uuid}'s generation moved from ${node.generation} to ${after.generation} during a report that wrote nothing`,
      p.exchanges.at(-1),
    );
  }
  return p.requests - before;
}

/** A driver whose reserved grows by one unit, then shrinks back, as nova sends it. */
async function reportChangeAndBack(ctx: WorkloadContext, uuid: string): Promise<void> {
  const p = ctx.p;
  const start = await p.inventories(uuid);
  const usages = (await p.usages(uuid)).usages;
  const rc = Object.keys(start.inventories)
    .sort()
    .find((c) => {
      const inv = start.inventories[c]!;
      const free = (inv.total - inv.reserved - 1) * inv.allocation_ratio - (usages[c] ?? 0);
      return inv.reserved + 1 <= inv.total && free >= 0;
    });
  if (!rc) return;
  const changed: Inventories = {
    ...start.inventories,
    [rc]: { ...start.inventories[rc]!, reserved: start.inventories[rc]!.reserved + 1 },
  };
  const put = expectStatus(await p.putInventories(uuid, start.generation, changed), 200);
  const gen = Number(
    (put.body as { resource_provider_generation?: number })?.resource_provider_generation,
  );
  if (gen !== start.generation + 1) {
    throw new StepFailure(
      `PUT inventories answered generation ${gen}; it was ${start.generation}, so ${start.generation + 1} was due`,
      put,
    );
  }
  // Another report with the generation from before the change: placement must refuse it.
  const stale = await p.putInventories(uuid, start.generation, start.inventories);
  const code = (stale.body as { errors?: { code?: string }[] })?.errors?.[0]?.code;
  if (stale.status !== 409 || code !== 'placement.concurrent_update') {
    throw new StepFailure(
      'an inventory PUT with a stale generation was not refused with 409 placement.concurrent_update',
      stale,
    );
  }
  // nova re-reads the tree and sends the report again.
  const fresh = await p.inventories(uuid);
  expectStatus(await p.putInventories(uuid, fresh.generation, start.inventories), 200);
  const end = await p.inventories(uuid);
  if (
    inventoryChanged(start.inventories, end.inventories) ||
    end.generation !== start.generation + 2
  ) {
    throw new StepFailure(
      `after changing ${rc} reserved and back, ${uuid} should hold its first inventory at generation ${start.generation + 2}`,
      p.exchanges.at(-1),
      { expected: start.inventories, actual: end.inventories },
    );
  }
}
