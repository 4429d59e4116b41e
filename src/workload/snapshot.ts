/**
 * What placement shows of a set of providers, read the way nova reads it,
 * and the invariants that must hold over it whatever the workload did:
 * usage within capacity, every allocation visible from both its consumer
 * and its provider, every provider in a well-formed tree.
 */
import { mapLimited } from '../util/map-limited.js';
import type { Exchange } from './client.js';
import { StepFailure } from './failure.js';
import type {
  ConsumerView,
  Inventories,
  NovaPlacement,
  ProviderRef,
  Resources,
} from './placement.js';

export interface ProviderState {
  ref: ProviderRef;
  inventories: Inventories;
  usages: Resources;
  /** consumer → resources on this provider. */
  allocations: Record<string, Resources>;
  traits: string[];
  aggregates: string[];
  /** The exchanges the state was read from, by what they showed. */
  seen: { usages: Exchange; allocations: Exchange; inventories: Exchange };
}

export interface Snapshot {
  /** Every provider (GET /resource_providers), by uuid. */
  all: Map<string, ProviderRef>;
  listing: Exchange;
  /** The providers read in full. */
  providers: Map<string, ProviderState>;
  consumers: Map<string, { view: ConsumerView; exchange: Exchange }>;
}

const CONCURRENCY = 8;

/** Reads one provider the way the inventory report and the checks need it. */
async function readProvider(p: NovaPlacement, ref: ProviderRef): Promise<ProviderState> {
  const [inv, use, alloc, traits, aggs] = await Promise.all([
    p.inventories(ref.uuid),
    p.usages(ref.uuid),
    p.providerAllocations(ref.uuid),
    p.traits(ref.uuid),
    p.aggregates(ref.uuid),
  ]);
  const last = p.exchanges;
  const find = (suffix: string) =>
    [...last].reverse().find((e) => e.path === `/resource_providers/${ref.uuid}/${suffix}`)!;
  return {
    ref: { ...ref, generation: inv.generation },
    inventories: inv.inventories,
    usages: use.usages,
    allocations: alloc.allocations,
    traits: [...traits.traits].sort(),
    aggregates: [...aggs.aggregates].sort(),
    seen: { usages: find('usages'), allocations: alloc.exchange, inventories: find('inventories') },
  };
}

/**
 * Lists every provider, reads `which` of them in full (all when omitted)
 * and every consumer holding allocations on them.
 */
export async function takeSnapshot(p: NovaPlacement, which?: Iterable<string>): Promise<Snapshot> {
  const listed = await p.providers();
  const listing = p.exchanges[p.exchanges.length - 1]!;
  const all = new Map(listed.map((r) => [r.uuid, r]));
  const wanted = which ? [...new Set(which)].filter((u) => all.has(u)) : [...all.keys()];
  const states = await mapLimited(wanted, CONCURRENCY, (u) => readProvider(p, all.get(u)!));
  const providers = new Map(states.map((s) => [s.ref.uuid, s]));
  const consumerIds = [...new Set(states.flatMap((s) => Object.keys(s.allocations)))].sort();
  const views = await mapLimited(consumerIds, CONCURRENCY, (c) => p.consumer(c));
  const consumers = new Map(consumerIds.map((c, i) => [c, views[i]!]));
  return { all, listing, providers, consumers };
}

/** (total − reserved) × allocation_ratio, as placement computes capacity. */
export function capacityOf(inv: Inventories[string]): number {
  return (inv.total - inv.reserved) * inv.allocation_ratio;
}

const sameResources = (a: Resources | undefined, b: Resources | undefined) => {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a![k] === b![k]);
};

/** Throws the first broken invariant, with the exchange that showed it. */
export function checkInvariants(s: Snapshot): void {
  checkTrees(s);
  checkVisibility(s);
  for (const state of s.providers.values()) checkCapacity(state);
}

function checkTrees(s: Snapshot): void {
  for (const ref of s.all.values()) {
    const root = s.all.get(ref.root);
    if (!root) {
      throw new StepFailure(
        `provider ${ref.uuid} (${ref.name}) has root ${ref.root}, which is not a provider`,
        s.listing,
      );
    }
    if (ref.parent === null && ref.root !== ref.uuid) {
      throw new StepFailure(
        `provider ${ref.uuid} (${ref.name}) has no parent but its root is ${ref.root} (${root.name}): a root must be its own root`,
        s.listing,
      );
    }
    if (ref.parent !== null) {
      const parent = s.all.get(ref.parent);
      if (!parent || parent.root !== ref.root) {
        throw new StepFailure(
          `provider ${ref.uuid} (${ref.name}) has root ${ref.root} but its parent ${ref.parent} is ${parent ? `in the tree of ${parent.root}` : 'not a provider'}`,
          s.listing,
        );
      }
    }
  }
}

function checkCapacity(state: ProviderState): void {
  for (const [rc, used] of Object.entries(state.usages)) {
    if (used === 0) continue;
    const inv = state.inventories[rc];
    if (!inv) {
      throw new StepFailure(
        `provider ${state.ref.uuid} (${state.ref.name}) has ${used} ${rc} in use but no ${rc} inventory`,
        state.seen.usages,
      );
    }
    const capacity = capacityOf(inv);
    if (used > capacity + 1e-6 * Math.max(1, capacity)) {
      throw new StepFailure(
        `provider ${state.ref.uuid} (${state.ref.name}) uses ${used} ${rc} of a capacity of ${capacity} ((total ${inv.total} − reserved ${inv.reserved}) × ${inv.allocation_ratio})`,
        state.seen.usages,
        { expected: `≤ ${capacity}`, actual: used },
      );
    }
  }
  const held = summedAllocations(state);
  for (const rc of new Set([...Object.keys(held), ...Object.keys(state.usages)])) {
    if ((held[rc] ?? 0) !== (state.usages[rc] ?? 0)) {
      throw new StepFailure(
        `provider ${state.ref.uuid} (${state.ref.name}) reports ${state.usages[rc] ?? 0} ${rc} used, but its allocations hold ${held[rc] ?? 0}`,
        state.seen.usages,
        { expected: held[rc] ?? 0, actual: state.usages[rc] ?? 0 },
      );
    }
  }
}

function checkVisibility(s: Snapshot): void {
  for (const state of s.providers.values()) {
    for (const [c, resources] of Object.entries(state.allocations)) {
      const consumer = s.consumers.get(c);
      const there = consumer?.view.allocations[state.ref.uuid]?.resources;
      if (!sameResources(resources, there)) {
        throw new StepFailure(
          `provider ${state.ref.uuid} shows consumer ${c} holding ${JSON.stringify(resources)}, but the consumer shows ${there ? JSON.stringify(there) : 'nothing'} there`,
          consumer?.exchange ?? state.seen.allocations,
          { expected: resources, actual: there ?? null },
        );
      }
    }
  }
  for (const [c, { view, exchange }] of s.consumers) {
    for (const [rp, a] of Object.entries(view.allocations)) {
      const state = s.providers.get(rp);
      if (!state) {
        if (!s.all.has(rp)) {
          throw new StepFailure(
            `consumer ${c} holds allocations on ${rp}, which GET /resource_providers does not list`,
            exchange,
          );
        }
        continue;
      }
      if (!sameResources(a.resources, state.allocations[c])) {
        throw new StepFailure(
          `consumer ${c} shows ${JSON.stringify(a.resources)} on ${rp}, but the provider shows ${JSON.stringify(state.allocations[c] ?? null)}`,
          state.seen.allocations,
          { expected: a.resources, actual: state.allocations[c] ?? null },
        );
      }
    }
  }
}

/** The sum of each class over a provider's allocations (what its usages must say). */
export function summedAllocations(state: ProviderState): Resources {
  const out: Resources = {};
  for (const r of Object.values(state.allocations)) {
    for (const [rc, n] of Object.entries(r)) out[rc] = (out[rc] ?? 0) + n;
  }
  return out;
}
