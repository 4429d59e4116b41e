/**
 * What the workload's steps share: the client, the hosts and flavors drawn
 * from the data, the instances it created, what it must remove again on a
 * live service, and the checks every step ends with.
 */
import { randomUUID } from 'node:crypto';
import { seededRandom } from '../util/seeded-random.js';

export { seededRandom };
import type { Exchange } from './client.js';
import { StepFailure } from './failure.js';
import type {
  AllocationRequest,
  ConsumerView,
  NovaPlacement,
  ProviderRef,
  Resources,
} from './placement.js';
import { checkInvariants, takeSnapshot, type ProviderState, type Snapshot } from './snapshot.js';

/** A flavor as nova turns it into a request: the unsuffixed group, traits, aggregates, granular groups. */
export interface Flavor {
  name: string;
  resources: Resources;
  required: string[];
  /** Aggregate uuids, any of which (member_of=in:…). */
  memberOf: string[];
  /** Numbered request groups (resources1=VGPU:1). */
  granular?: Record<string, Resources>;
  /** The instance it was derived from and the host it runs on, when it came from the data. */
  from?: { consumer: string; host: string };
}

/** An instance the workload created, and where its allocations are. */
export interface Instance {
  uuid: string;
  flavor: Flavor;
  host: string;
  allocations: AllocationRequest['allocations'];
}

/** Objects created on a live service, removed at the end (and on Ctrl-C). */
export interface Ledger {
  providers: string[];
  consumers: Set<string>;
  traits: string[];
}

export type Mode = 'scratch' | 'endpoint';

export interface WorkloadContext {
  p: NovaPlacement;
  mode: Mode;
  rng: () => number;
  /** Names of everything the run creates start with this. */
  prefix: string;
  /** The trait that marks the run's own hosts on a live service (nothing else has it). */
  ownTrait?: string;
  project: string;
  user: string;
  /** No consumer to take a project and user from: placement creates rows for ours, and keeps them. */
  newOwner?: boolean;
  baseline: Snapshot;
  /** Compute nodes drawn from the data (read, reported, scheduled on in scratch mode). */
  sampled: ProviderState[];
  /** Hosts the run schedules onto: sampled ones (scratch) or its own (endpoint). */
  hosts: ProviderRef[];
  flavors: Flavor[];
  instances: Instance[];
  ledger: Ledger;
}

/** What a step wrote, for the checks that end it. */
export interface StepEffects {
  /** Providers the step may have changed (their generation, usages, inventories, tree). */
  touched: Set<string>;
  /** Providers whose generation must have advanced. */
  bumped: Set<string>;
  /** A line for the report. */
  summary: string;
}

/** A provider's name for the report (its uuid when the run never saw it). */
export function nameOf(ctx: WorkloadContext, uuid: string): string {
  return ctx.hosts.find((h) => h.uuid === uuid)?.name ?? ctx.baseline?.all.get(uuid)?.name ?? uuid;
}

/** Fisher–Yates with the run's generator. */
export function shuffled<T>(items: readonly T[], rng: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A consumer uuid of the run's own (instances and migrations), recorded for clean-up. */
export function newConsumer(ctx: WorkloadContext): string {
  const uuid = randomUUID();
  ctx.ledger.consumers.add(uuid);
  return uuid;
}

/** The query nova's scheduler sends for a flavor: its parameters sorted, as urlencode(sorted(…)). */
export function novaQuery(
  ctx: WorkloadContext,
  flavor: Flavor,
  extra: Record<string, string> = {},
): string {
  const group = (r: Resources) =>
    Object.entries(r)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([rc, n]) => `${rc}:${n}`)
      .join(',');
  const params: [string, string][] = [
    ['limit', '1000'],
    ['root_required', '!COMPUTE_STATUS_DISABLED'],
  ];
  const unsuffixed = group(flavor.resources);
  if (unsuffixed) params.push(['resources', unsuffixed]);
  const required = [...flavor.required, ...(ctx.ownTrait ? [ctx.ownTrait] : [])];
  if (required.length > 0) params.push(['required', required.join(',')]);
  if (flavor.memberOf.length > 0) params.push(['member_of', `in:${flavor.memberOf.join(',')}`]);
  for (const [suffix, r] of Object.entries(flavor.granular ?? {})) {
    params.push([`resources${suffix}`, group(r)]);
  }
  for (const [k, v] of Object.entries(extra)) params.push([k, v]);
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

/** Sums a consumer's allocations over its providers, by class. */
export function totalOf(allocations: Record<string, { resources: Resources }>): Resources {
  const out: Resources = {};
  for (const a of Object.values(allocations)) {
    for (const [rc, n] of Object.entries(a.resources)) out[rc] = (out[rc] ?? 0) + n;
  }
  return out;
}

/** Plain resources of an allocation request, without the `generation` nova's GET adds. */
export function plainAllocations(
  a: ConsumerView['allocations'] | AllocationRequest['allocations'],
): AllocationRequest['allocations'] {
  return Object.fromEntries(
    Object.entries(a).map(([rp, v]) => [rp, { resources: { ...v.resources } }]),
  );
}

function canonical(a: AllocationRequest['allocations']): string {
  return JSON.stringify(
    Object.keys(a)
      .sort()
      .map((rp) => [
        rp,
        Object.entries(a[rp]!.resources)
          .filter(([, n]) => n > 0)
          .sort(),
      ]),
  );
}

/** Fails unless the consumer holds exactly `expected` (GET /allocations/{consumer} at 1.28). */
export async function expectConsumer(
  ctx: WorkloadContext,
  consumer: string,
  expected: AllocationRequest['allocations'],
  what: string,
): Promise<ConsumerView> {
  const { view, exchange } = await ctx.p.consumer(consumer);
  if (canonical(plainAllocations(view.allocations)) !== canonical(expected)) {
    throw new StepFailure(
      `${what}: consumer ${consumer} does not hold what was written`,
      exchange,
      {
        expected,
        actual: view.allocations,
      },
    );
  }
  if (Object.keys(expected).length > 0) {
    if (typeof view.consumer_generation !== 'number') {
      throw new StepFailure(`${what}: consumer ${consumer} has no consumer_generation`, exchange);
    }
    if (view.project_id !== ctx.project || view.user_id !== ctx.user) {
      throw new StepFailure(
        `${what}: consumer ${consumer} belongs to ${view.project_id}/${view.user_id}, not ${ctx.project}/${ctx.user}`,
        exchange,
      );
    }
  }
  return view;
}

/** Fails unless a write moved the consumer's generation on by exactly one. */
export function expectAdvanced(
  before: number,
  after: ConsumerView,
  consumer: string,
  exchange: Exchange | undefined,
  what: string,
): void {
  if (after.consumer_generation !== before + 1) {
    throw new StepFailure(
      `${what}: consumer ${consumer}'s generation went from ${before} to ${String(after.consumer_generation)}; every write must advance it by one`,
      exchange,
      { expected: before + 1, actual: after.consumer_generation ?? null },
    );
  }
}

/**
 * The checks every step ends with: providers the step did not touch are as
 * they were (generation, parent, root); the ones it wrote to have a newer
 * generation; the touched ones hold their invariants.
 */
export async function checkStep(
  ctx: WorkloadContext,
  before: Snapshot,
  effects: StepEffects,
): Promise<Snapshot> {
  const after = await takeSnapshot(ctx.p, effects.touched);
  for (const [uuid, was] of before.all) {
    if (effects.touched.has(uuid)) continue;
    const now = after.all.get(uuid);
    if (!now) {
      throw new StepFailure(
        `provider ${uuid} (${was.name}) is gone, though the step did not touch it`,
        after.listing,
      );
    }
    if (now.generation !== was.generation || now.parent !== was.parent || now.root !== was.root) {
      const message = `provider ${uuid} (${was.name}) changed (generation ${was.generation} → ${now.generation}), though the step did not touch it`;
      // On a live service nova itself writes while the workload runs.
      if (ctx.mode === 'endpoint') continue;
      throw new StepFailure(message, after.listing, { expected: was, actual: now });
    }
  }
  for (const uuid of effects.bumped) {
    const was = before.all.get(uuid);
    const now = after.all.get(uuid);
    if (was && now && !(now.generation > was.generation)) {
      throw new StepFailure(
        `provider ${uuid} (${now.name}) was written to, but its generation stayed ${now.generation}`,
        after.listing,
        { expected: `> ${was.generation}`, actual: now.generation },
      );
    }
  }
  checkInvariants(after);
  return after;
}
