/**
 * The first step: read every provider and consumer the way nova would,
 * check the invariants over all of it (a migrated target that is already
 * broken fails here), draw the compute nodes to work on and derive
 * flavors from the instances they run.
 */
import { StepFailure } from '../failure.js';
import { checkInvariants, takeSnapshot, type ProviderState } from '../snapshot.js';
import {
  shuffled,
  totalOf,
  type Flavor,
  type StepEffects,
  type WorkloadContext,
} from '../context.js';
import type { Resources } from '../placement.js';

/** At least the versions nova 2023.x asks for. */
const NEEDED = [1, 36] as const;

function versionAtLeast(v: string, [major, minor]: readonly [number, number]): boolean {
  const [a, b] = v.split('.').map(Number);
  return a! > major || (a === major && b! >= minor);
}

export async function baseline(ctx: WorkloadContext, sample: number): Promise<StepEffects> {
  const versions = await ctx.p.root();
  if (!versionAtLeast(versions.max, NEEDED)) {
    throw new StepFailure(
      `the service offers microversions up to ${versions.max}; nova 2023.x needs ${NEEDED.join('.')}`,
      ctx.p.exchanges.at(-1),
    );
  }
  ctx.baseline = await takeSnapshot(ctx.p);
  checkInvariants(ctx.baseline);
  ctx.sampled = drawComputeNodes(ctx, sample);
  ctx.flavors = deriveFlavors(ctx, ctx.sampled, sample);
  const owner = firstOwner(ctx);
  if (owner) [ctx.project, ctx.user] = owner;
  else ctx.newOwner = true;
  return {
    touched: new Set(),
    bumped: new Set(),
    summary: `${ctx.baseline.all.size} providers and ${ctx.baseline.consumers.size} consumers read and consistent; ${ctx.sampled.length} compute nodes drawn, ${ctx.flavors.length} flavors derived`,
  };
}

/** Roots with VCPU and MEMORY_MB (compute nodes), else any root with inventory, in seeded order. */
function drawComputeNodes(ctx: WorkloadContext, sample: number): ProviderState[] {
  const roots = [...ctx.baseline.providers.values()].filter(
    (s) => s.ref.parent === null && !s.ref.name.startsWith(ctx.prefix),
  );
  const computes = roots.filter((s) => 'VCPU' in s.inventories && 'MEMORY_MB' in s.inventories);
  const pool =
    computes.length > 0 ? computes : roots.filter((s) => Object.keys(s.inventories).length > 0);
  return shuffled(
    pool.sort((a, b) => (a.ref.uuid < b.ref.uuid ? -1 : 1)),
    ctx.rng,
  ).slice(0, sample);
}

/**
 * A flavor per distinct resource set of the instances on the drawn nodes:
 * what they hold over all their providers, with the node's custom traits
 * and its aggregates (the flavor's extra specs and the AZ, as nova maps
 * them); a small one from the node's own inventory when none runs there.
 */
function deriveFlavors(ctx: WorkloadContext, nodes: ProviderState[], sample: number): Flavor[] {
  const seen = new Set<string>();
  const out: Flavor[] = [];
  for (const node of nodes) {
    const consumers = Object.keys(node.allocations).sort();
    for (const c of consumers) {
      const view = ctx.baseline.consumers.get(c)?.view;
      if (!view) continue;
      const resources = totalOf(view.allocations);
      const flavor = flavorFor(ctx, node, resources, `from ${c}`);
      const key = JSON.stringify([
        Object.entries(resources).sort(),
        flavor.required,
        flavor.memberOf,
      ]);
      if (seen.has(key) || Object.keys(resources).length === 0) continue;
      seen.add(key);
      out.push({ ...flavor, from: { consumer: c, host: node.ref.uuid } });
      if (out.length >= sample) return out;
    }
  }
  if (out.length === 0 && !nodes[0]) {
    // An empty cloud: the smallest instance nova would boot.
    out.push({
      name: 'a small flavor',
      resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 },
      required: [],
      memberOf: [],
    });
  }
  if (out.length === 0 && nodes[0]) {
    const node = nodes[0];
    const small: Resources = {};
    for (const [rc, inv] of Object.entries(node.inventories)) {
      if (['VCPU', 'MEMORY_MB', 'DISK_GB'].includes(rc))
        small[rc] = Math.max(inv.min_unit, inv.step_size);
    }
    out.push(flavorFor(ctx, node, small, `the smallest ${node.ref.name} takes`));
  }
  return out;
}

function flavorFor(
  ctx: WorkloadContext,
  node: ProviderState,
  resources: Resources,
  name: string,
): Flavor {
  const own = ctx.mode === 'endpoint';
  return {
    name,
    resources,
    required: own ? [] : node.traits.filter((t) => t.startsWith('CUSTOM_')).slice(0, 2),
    memberOf: own ? [] : node.aggregates.slice(0, 3),
  };
}

/** An existing project and user, so a live service gains no project or user rows. */
function firstOwner(ctx: WorkloadContext): [string, string] | null {
  for (const { view } of ctx.baseline.consumers.values()) {
    if (view.project_id && view.user_id) return [view.project_id, view.user_id];
  }
  return null;
}
