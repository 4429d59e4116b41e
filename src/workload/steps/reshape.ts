/**
 * The upgrade the extraction was held for: a flat compute node with VGPUs
 * (given some first, as a driver reports new devices, when it has none)
 * and an instance holding one, reshaped into two child providers — one per
 * physical GPU, named as libvirt names them — with the instances' VGPU
 * allocations moved onto them in one POST /reshaper, every generation
 * checked; then a new instance scheduled onto the nested tree with a
 * granular request.
 */
import { expectStatus, StepFailure } from '../failure.js';
import type { ConsumerView, Inventories, InventoryRecord, ProviderRef } from '../placement.js';
import {
  expectAdvanced,
  newConsumer,
  plainAllocations,
  type Flavor,
  type StepEffects,
  type WorkloadContext,
} from '../context.js';
import { candidatesFor, claim, hostOf } from './schedule.js';

const VGPU = 'VGPU';
const CHILDREN = 2;

const device = (total: number): InventoryRecord => ({
  total,
  reserved: 0,
  min_unit: 1,
  max_unit: total,
  step_size: 1,
  allocation_ratio: 1,
});

/** The host to reshape: a compute node of the data on a scratch copy, the run's own last one on a live service. */
function hostToReshape(ctx: WorkloadContext) {
  const host = (ctx.mode === 'scratch' ? ctx.sampled[0]?.ref : undefined) ?? ctx.hosts.at(-1);
  if (!host) throw new StepFailure('no host to reshape');
  return host;
}

export async function reshape(ctx: WorkloadContext): Promise<StepEffects> {
  const p = ctx.p;
  const host = hostToReshape(ctx);
  const touched = new Set([host.uuid]);
  // 1. The driver reports VGPUs on the flat node, and an instance takes one.
  let inv = await p.inventories(host.uuid);
  if (!(VGPU in inv.inventories)) {
    const withGpus: Inventories = { ...inv.inventories, [VGPU]: device(2 * CHILDREN) };
    expectStatus(await p.putInventories(host.uuid, inv.generation, withGpus), 200);
    inv = await p.inventories(host.uuid);
  }
  const flat: Flavor = {
    name: 'a VGPU instance',
    resources: { [VGPU]: 1 },
    required: [],
    memberOf: [],
  };
  const first = await candidatesFor(ctx, flat, { in_tree: host.uuid });
  // The VGPU from the root itself (a tree may already have GPU children of its own).
  const req = first.answer.allocation_requests.find(
    (r) => (r.allocations[host.uuid]?.resources[VGPU] ?? 0) > 0,
  );
  if (!req) {
    throw new StepFailure(`no candidate takes one VGPU from ${host.uuid} itself`, first.exchange);
  }
  const gpuInstance = newConsumer(ctx);
  await claim(ctx, gpuInstance, req, 'VGPU claim on the flat node');

  // 2. Two child providers, as libvirt creates one per physical GPU.
  const children: ProviderRef[] = [];
  for (let i = 0; i < CHILDREN; i++) {
    const child = await p.createProvider({
      name: `${host.name}_pci_0000_8${4 + i}_00_0`,
      parent_provider_uuid: host.uuid,
    });
    if (ctx.mode === 'endpoint') ctx.ledger.providers.push(child.uuid);
    if (child.root !== host.uuid) {
      throw new StepFailure(
        `a new child of ${host.uuid} names root ${child.root}`,
        p.exchanges.at(-1),
      );
    }
    children.push(child);
    touched.add(child.uuid);
  }

  // 3. One POST /reshaper: the root loses VGPU, the children get it, and every
  //    consumer's VGPU moves to a child with room.
  // The claim moved the root's generation on: the reshape sends the one of now, as nova re-reads it.
  inv = await p.inventories(host.uuid);
  const holders = await consumersOfClass(ctx, host.uuid, VGPU);
  const used = holders.reduce(
    (n, h) => n + (h.view.allocations[host.uuid]?.resources[VGPU] ?? 0),
    0,
  );
  const perChild = Math.max(
    Math.ceil(inv.inventories[VGPU]!.total / CHILDREN),
    Math.ceil(used / CHILDREN),
    1,
  );
  const rootInventories = { ...inv.inventories };
  delete rootInventories[VGPU];
  const inventories: Record<string, unknown> = {
    [host.uuid]: { inventories: rootInventories, resource_provider_generation: inv.generation },
  };
  for (const c of children) {
    inventories[c.uuid] = {
      inventories: { [VGPU]: device(perChild) },
      resource_provider_generation: c.generation,
    };
  }
  const room = children.map(() => perChild);
  const expected = new Map<string, ConsumerView['allocations']>();
  const allocations: Record<string, unknown> = {};
  for (const { uuid, view } of holders) {
    const moved = plainAllocations(view.allocations);
    const n = moved[host.uuid]!.resources[VGPU]!;
    const target = room.findIndex((r) => r >= n);
    if (target === -1) throw new StepFailure(`consumer ${uuid}'s ${n} VGPU fits on no child`);
    room[target]! -= n;
    const rest = { ...moved[host.uuid]!.resources };
    delete rest[VGPU];
    if (Object.keys(rest).length > 0) moved[host.uuid] = { resources: rest };
    else delete moved[host.uuid];
    const child = children[target]!.uuid;
    moved[child] = { resources: { ...(moved[child]?.resources ?? {}), [VGPU]: n } };
    expected.set(uuid, moved);
    allocations[uuid] = {
      allocations: moved,
      project_id: view.project_id,
      user_id: view.user_id,
      consumer_generation: view.consumer_generation,
    };
  }
  const post = expectStatus(await p.reshape({ inventories, allocations }), 204);

  // 4. What the reshape must have left: inventories where sent, every allocation moved.
  const after = await p.inventories(host.uuid);
  if (VGPU in after.inventories) {
    throw new StepFailure(
      `after the reshape ${host.uuid} still has ${VGPU} inventory`,
      p.exchanges.at(-1),
    );
  }
  for (const { uuid, view } of holders) {
    const now = await p.consumer(uuid);
    const want = expected.get(uuid)!;
    const same =
      JSON.stringify(sortAllocations(plainAllocations(now.view.allocations))) ===
      JSON.stringify(sortAllocations(want));
    if (!same) {
      throw new StepFailure(
        `the reshape did not leave consumer ${uuid} holding what was sent`,
        now.exchange,
        {
          expected: want,
          actual: now.view.allocations,
        },
      );
    }
    expectAdvanced(view.consumer_generation!, now.view, uuid, post, 'reshape');
  }

  // 5. A new instance on the nested tree, asked as nova asks a granular VGPU.
  const nested: Flavor = {
    name: 'a granular VGPU instance',
    // The unsuffixed VCPU from the root too, where the root has one to spare.
    resources: (await spare(ctx, host.uuid, 'VCPU')) ? { VCPU: 1 } : {},
    required: [],
    memberOf: [],
    granular: { '1': { [VGPU]: 1 } },
  };
  const second = await candidatesFor(ctx, nested, { in_tree1: host.uuid });
  // A child the reshape made, or one the tree had already: never the root, which has no VGPU left.
  const onChild = second.answer.allocation_requests.find((r) =>
    Object.keys(r.allocations).some(
      (rp) =>
        rp !== host.uuid && second.answer.provider_summaries[rp]?.root_provider_uuid === host.uuid,
    ),
  );
  const fromRoot = second.answer.allocation_requests.find(
    (r) => (r.allocations[host.uuid]?.resources[VGPU] ?? 0) > 0,
  );
  if (fromRoot) {
    throw new StepFailure(
      `after the reshape a candidate still takes ${VGPU} from the root ${host.uuid}`,
      second.exchange,
    );
  }
  if (!onChild) {
    throw new StepFailure(
      `no candidate puts a VGPU on a child of the reshaped ${host.uuid}`,
      second.exchange,
    );
  }
  const next = newConsumer(ctx);
  await claim(ctx, next, onChild, 'VGPU claim on the nested tree');
  if (hostOf(second.answer, onChild) !== host.uuid) {
    throw new StepFailure(`the granular claim landed outside the reshaped tree`, second.exchange);
  }
  // Written to: the root, the new children, and wherever the two claims landed;
  // anything else of the tree (children it had already) may have been touched.
  const bumped = new Set([
    ...touched,
    ...Object.keys(req.allocations),
    ...Object.keys(onChild.allocations),
  ]);
  for (const rp of await p.tree(host.uuid)) touched.add(rp.uuid);
  return {
    touched,
    bumped,
    summary: `${host.name} reshaped: ${VGPU} moved to ${CHILDREN} children with ${holders.length} consumers' allocations, then a granular claim on a child`,
  };
}

/** Whether one more unit of `rc` fits on the provider. */
async function spare(ctx: WorkloadContext, uuid: string, rc: string): Promise<boolean> {
  const inv = (await ctx.p.inventories(uuid)).inventories[rc];
  if (!inv) return false;
  const used = (await ctx.p.usages(uuid)).usages[rc] ?? 0;
  return inv.min_unit <= 1 && used + 1 <= (inv.total - inv.reserved) * inv.allocation_ratio;
}

async function consumersOfClass(ctx: WorkloadContext, provider: string, rc: string) {
  const { allocations } = await ctx.p.providerAllocations(provider);
  const out: { uuid: string; view: ConsumerView }[] = [];
  for (const [uuid, resources] of Object.entries(allocations).sort()) {
    if (!(resources[rc] && resources[rc] > 0)) continue;
    out.push({ uuid, view: (await ctx.p.consumer(uuid)).view });
  }
  return out;
}

function sortAllocations(a: ConsumerView['allocations']) {
  return Object.keys(a)
    .sort()
    .map((rp) => [rp, Object.entries(a[rp]!.resources).sort()]);
}
