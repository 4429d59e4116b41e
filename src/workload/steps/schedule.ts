/**
 * The scheduler: for each flavor, GET /allocation_candidates as nova's
 * scheduler asks it, then the claim for a new instance (GET the consumer,
 * PUT its allocations with consumer_generation null, project and user).
 * The host an instance of the data runs on must be among the candidates
 * when it still has room for the flavor, and each claim must show through
 * the consumer and in its providers' usages.
 */
import { expectStatus, StepFailure } from '../failure.js';
import type { AllocationRequest, CandidatesAnswer, Resources } from '../placement.js';
import { capacityOf, type ProviderState } from '../snapshot.js';
import {
  expectConsumer,
  newConsumer,
  novaQuery,
  type Flavor,
  type Instance,
  type StepEffects,
  type WorkloadContext,
} from '../context.js';

/** The roots of an allocation request's providers. */
function rootsOf(answer: CandidatesAnswer, req: AllocationRequest): Set<string> {
  return new Set(
    Object.keys(req.allocations).map(
      (rp) => answer.provider_summaries[rp]?.root_provider_uuid ?? rp,
    ),
  );
}

/** The first candidate on the run's hosts, preferring one away from `avoid` (a move's source). */
export function pickCandidate(
  ctx: WorkloadContext,
  answer: CandidatesAnswer,
  avoid?: string,
): AllocationRequest | undefined {
  const allowed = new Set(ctx.hosts.map((h) => h.uuid));
  const onHosts = answer.allocation_requests.filter((r) => {
    const roots = rootsOf(answer, r);
    return ctx.mode === 'scratch' || [...roots].every((root) => allowed.has(root));
  });
  return onHosts.find((r) => !avoid || !rootsOf(answer, r).has(avoid)) ?? onHosts[0];
}

/** The host of a claim: the root of its first provider. */
export function hostOf(answer: CandidatesAnswer, req: AllocationRequest): string {
  return [...rootsOf(answer, req)][0]!;
}

/** Whether a provider by itself has room for `resources` (capacity, min/max unit, step size). */
function fits(state: ProviderState, resources: Resources): boolean {
  return Object.entries(resources).every(([rc, n]) => {
    const inv = state.inventories[rc];
    if (!inv) return false;
    return (
      n >= inv.min_unit &&
      n <= inv.max_unit &&
      n % inv.step_size === 0 &&
      (state.usages[rc] ?? 0) + n <= capacityOf(inv)
    );
  });
}

/** Every provider of a request must have room for its part, as the summaries say. */
function checkSummaries(answer: CandidatesAnswer, req: AllocationRequest, exchange: unknown): void {
  for (const [rp, a] of Object.entries(req.allocations)) {
    const summary = answer.provider_summaries[rp];
    for (const [rc, n] of Object.entries(a.resources)) {
      const s = summary?.resources[rc];
      if (!s || s.used + n > s.capacity) {
        throw new StepFailure(
          `a candidate asks ${n} ${rc} of ${rp}, whose summary shows ${s ? `${s.used} used of ${s.capacity}` : 'no such resource'}`,
          exchange as never,
        );
      }
    }
  }
}

/** GET the candidates for a flavor; fails unless the answer is well-formed. */
export async function candidatesFor(
  ctx: WorkloadContext,
  flavor: Flavor,
  extra: Record<string, string> = {},
): Promise<{ answer: CandidatesAnswer; exchange: import('../client.js').Exchange }> {
  const got = await ctx.p.candidates(novaQuery(ctx, flavor, extra));
  for (const r of got.answer.allocation_requests) checkSummaries(got.answer, r, got.exchange);
  return got;
}

/** The scheduler's claim for a new consumer, checked through the consumer and the usages. */
export async function claim(
  ctx: WorkloadContext,
  consumer: string,
  req: AllocationRequest,
  what: string,
): Promise<void> {
  const p = ctx.p;
  const empty = await p.consumer(consumer);
  if (Object.keys(empty.view.allocations).length > 0) {
    throw new StepFailure(
      `${what}: new consumer ${consumer} already holds allocations`,
      empty.exchange,
    );
  }
  const before = await usagesOf(ctx, Object.keys(req.allocations));
  const body: Record<string, unknown> = {
    allocations: req.allocations,
    project_id: ctx.project,
    user_id: ctx.user,
    consumer_generation: null,
  };
  if (req.mappings) body['mappings'] = req.mappings;
  expectStatus(await p.putAllocations(consumer, body), 204);
  await expectConsumer(ctx, consumer, req.allocations, what);
  const after = await usagesOf(ctx, Object.keys(req.allocations));
  for (const [rp, a] of Object.entries(req.allocations)) {
    for (const [rc, n] of Object.entries(a.resources)) {
      const want = (before.get(rp)?.[rc] ?? 0) + n;
      if (after.get(rp)?.[rc] !== want) {
        throw new StepFailure(
          `${what}: ${rp}'s ${rc} usage is ${after.get(rp)?.[rc]} after claiming ${n}; it was ${before.get(rp)?.[rc] ?? 0}`,
          p.exchanges.findLast((e) => e.path === `/resource_providers/${rp}/usages`),
          { expected: want, actual: after.get(rp)?.[rc] ?? null },
        );
      }
    }
  }
}

export async function usagesOf(
  ctx: WorkloadContext,
  providers: string[],
): Promise<Map<string, Resources>> {
  const out = new Map<string, Resources>();
  for (const rp of providers) out.set(rp, (await ctx.p.usages(rp)).usages);
  return out;
}

export async function schedule(ctx: WorkloadContext): Promise<StepEffects> {
  const touched = new Set<string>();
  const notes: string[] = [];
  for (const flavor of ctx.flavors) {
    const { answer, exchange } = await candidatesFor(ctx, flavor);
    if (ctx.mode === 'scratch' && flavor.from)
      await checkOwnHostFound(ctx, flavor, answer, exchange);
    const req = pickCandidate(ctx, answer);
    if (!req) {
      notes.push(`no host for ${JSON.stringify(flavor.resources)}`);
      continue;
    }
    const uuid = newConsumer(ctx);
    await claim(ctx, uuid, req, `claim for ${flavor.name}`);
    const instance: Instance = {
      uuid,
      flavor,
      host: hostOf(answer, req),
      allocations: req.allocations,
    };
    ctx.instances.push(instance);
    for (const rp of Object.keys(req.allocations)) touched.add(rp);
  }
  if (ctx.instances.length === 0) {
    throw new StepFailure(
      `no flavor derived from the data could be scheduled (${notes.join('; ')})`,
      ctx.p.exchanges.findLast((e) => e.path.startsWith('/allocation_candidates')),
    );
  }
  return {
    touched,
    bumped: new Set(touched),
    summary: `${ctx.instances.length} of ${ctx.flavors.length} flavors scheduled and claimed${notes.length ? ` (${notes.join('; ')})` : ''}`,
  };
}

/** A host that runs an instance of a flavor and still has room for another must be a candidate. */
async function checkOwnHostFound(
  ctx: WorkloadContext,
  flavor: Flavor,
  answer: CandidatesAnswer,
  exchange: import('../client.js').Exchange,
): Promise<void> {
  const known = ctx.baseline.providers.get(flavor.from!.host);
  // Past nova's limit of 1000 the host may simply not have been drawn.
  if (!known || answer.allocation_requests.length >= 1000) return;
  const host = { ...known, usages: (await ctx.p.usages(known.ref.uuid)).usages };
  if (!fits(host, flavor.resources)) return;
  if (host.traits.includes('COMPUTE_STATUS_DISABLED')) return;
  const found = answer.allocation_requests.some((r) => rootsOf(answer, r).has(host.ref.uuid));
  if (!found) {
    throw new StepFailure(
      `${host.ref.name} (${host.ref.uuid}) runs ${flavor.from!.consumer} and has room for another ${JSON.stringify(flavor.resources)}, but is not among the ${answer.allocation_requests.length} candidates`,
      exchange,
    );
  }
}
