/**
 * The hosts the workload schedules onto. On a scratch copy: the drawn
 * compute nodes of the data. On a live service: compute nodes of the
 * run's own, named with its prefix and marked with its own trait (which
 * every request of the run requires), so the real hosts never receive an
 * allocation and the database can end as it began.
 */
import { expectStatus, StepFailure } from '../failure.js';
import type { Inventories } from '../placement.js';
import type { StepEffects, WorkloadContext } from '../context.js';

/** Own hosts: two to move between, a third to reshape. */
const OWN_HOSTS = 3;

export async function hosts(ctx: WorkloadContext): Promise<StepEffects> {
  if (ctx.mode === 'scratch') {
    ctx.hosts = ctx.sampled.map((s) => s.ref);
    if (ctx.hosts.length === 0) throw new StepFailure('the data has no compute node to work on');
    return {
      touched: new Set(),
      bumped: new Set(),
      summary: `scheduling on ${ctx.hosts.length} compute nodes of the data`,
    };
  }
  const trait = ctx.ownTrait!;
  ctx.ledger.traits.push(trait);
  expectStatus(await ctx.p.putTrait(trait), 201, 204);
  const inventories = ownInventories(ctx);
  const touched = new Set<string>();
  for (let i = 1; i <= OWN_HOSTS; i++) {
    const name = `${ctx.prefix}-cn-${i}`;
    const ref = await ctx.p.createProvider({ name });
    ctx.ledger.providers.push(ref.uuid);
    const inv = expectStatus(
      await ctx.p.putInventories(ref.uuid, ref.generation, inventories),
      200,
    );
    const generation = Number(
      (inv.body as { resource_provider_generation: number }).resource_provider_generation,
    );
    expectStatus(await ctx.p.putProviderTraits(ref.uuid, generation, [trait]), 200);
    ctx.hosts.push({ ...ref, generation: generation + 1 });
    touched.add(ref.uuid);
  }
  return {
    touched,
    bumped: new Set(),
    summary: `${OWN_HOSTS} compute nodes of the run's own created (${ctx.prefix}-cn-1…${OWN_HOSTS}, trait ${trait})`,
  };
}

/** Room for a few of each flavor: every class any flavor asks for, eight times the largest amount. */
function ownInventories(ctx: WorkloadContext): Inventories {
  const largest: Record<string, number> = { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 };
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
      allocation_ratio: 1,
    };
  }
  return out;
}
