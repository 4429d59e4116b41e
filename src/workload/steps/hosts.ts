/**
 * The hosts the workload schedules onto. On a scratch copy: the drawn
 * compute nodes of the data, and two new ones joining the cloud (created as
 * nova-compute creates its provider, with the drawn nodes' classes, traits
 * and aggregates), so that a full cloud still has room to schedule and to
 * move into. On a live service: compute nodes of the run's own, named with
 * its prefix and marked with its own trait (which every request of the run
 * requires), so the real hosts never receive an allocation and the database
 * can end as it began.
 */
import { expectStatus } from '../failure.js';
import type { Inventories, ProviderRef } from '../placement.js';
import type { StepEffects, WorkloadContext } from '../context.js';

/** Own hosts on a live service: two to move between, a third to reshape. */
const OWN_HOSTS = 3;
/** New hosts joining a scratch copy. */
const NEW_HOSTS = 2;

export async function hosts(ctx: WorkloadContext): Promise<StepEffects> {
  const touched = new Set<string>();
  const scratch = ctx.mode === 'scratch';
  const traits = scratch
    ? [...new Set(ctx.sampled.flatMap((s) => s.traits))].filter(
        (t) => t !== 'COMPUTE_STATUS_DISABLED',
      )
    : [ctx.ownTrait!];
  const aggregates = scratch ? [...new Set(ctx.sampled.flatMap((s) => s.aggregates))] : [];
  if (!scratch) {
    ctx.ledger.traits.push(ctx.ownTrait!);
    expectStatus(await ctx.p.putTrait(ctx.ownTrait!), 201, 204);
  }
  const inventories = hostInventories(ctx);
  const count = scratch ? NEW_HOSTS : OWN_HOSTS;
  const created: ProviderRef[] = [];
  for (let i = 1; i <= count; i++) {
    const ref = await newComputeNode(ctx, `${ctx.prefix}-cn-${i}`, inventories, traits, aggregates);
    created.push(ref);
    touched.add(ref.uuid);
  }
  ctx.hosts = scratch ? [...ctx.sampled.map((s) => s.ref), ...created] : created;
  return {
    touched,
    bumped: new Set(),
    summary: scratch
      ? `scheduling on ${ctx.sampled.length} compute nodes of the data and ${count} new ones (${ctx.prefix}-cn-1…${count})`
      : `${count} compute nodes of the run's own created (${ctx.prefix}-cn-1…${count}, trait ${ctx.ownTrait})`,
  };
}

/** A compute node's first report: its provider, inventories, traits and aggregates. */
async function newComputeNode(
  ctx: WorkloadContext,
  name: string,
  inventories: Inventories,
  traits: string[],
  aggregates: string[],
): Promise<ProviderRef> {
  const p = ctx.p;
  const ref = await p.createProvider({ name });
  ctx.ledger.providers.push(ref.uuid);
  const inv = expectStatus(await p.putInventories(ref.uuid, ref.generation, inventories), 200);
  let generation = Number(
    (inv.body as { resource_provider_generation: number }).resource_provider_generation,
  );
  if (traits.length > 0) {
    expectStatus(await p.putProviderTraits(ref.uuid, generation, traits), 200);
    generation += 1;
  }
  if (aggregates.length > 0) {
    expectStatus(await p.putAggregates(ref.uuid, generation, aggregates), 200);
    generation += 1;
  }
  return { ...ref, generation };
}

/**
 * Room for a few of each flavor: every class any flavor or drawn node has,
 * eight times the largest amount asked, at least 64; the drawn nodes'
 * allocation ratios where they have one.
 */
function hostInventories(ctx: WorkloadContext): Inventories {
  const largest: Record<string, number> = { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 };
  const ratio: Record<string, number> = {};
  for (const node of ctx.mode === 'scratch' ? ctx.sampled : []) {
    for (const [rc, inv] of Object.entries(node.inventories)) {
      largest[rc] = Math.max(largest[rc] ?? 0, inv.max_unit === 2147483647 ? 1 : inv.max_unit);
      ratio[rc] = Math.max(ratio[rc] ?? 1, inv.allocation_ratio);
    }
  }
  for (const f of ctx.flavors) {
    for (const [rc, n] of Object.entries(f.resources)) largest[rc] = Math.max(largest[rc] ?? 0, n);
  }
  const out: Inventories = {};
  for (const [rc, n] of Object.entries(largest)) {
    const total = Math.max(64, n * 8);
    out[rc] = {
      total,
      reserved: 0,
      min_unit: 1,
      max_unit: total,
      step_size: 1,
      allocation_ratio: ratio[rc] ?? 1,
    };
  }
  return out;
}
