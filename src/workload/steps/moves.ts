/**
 * Moves, the way nova's conductor and compute manager make them: a cold
 * migration (the instance's allocations moved to a migration consumer in
 * one POST /allocations, the instance claimed on the destination, the
 * migration's allocations emptied on confirm), a resize to a larger
 * flavor that is reverted (the migration's allocations moved back over the
 * instance's), and a delete (DELETE /allocations, no microversion).
 */
import { expectStatus, StepFailure } from '../failure.js';
import type { AllocationRequest, Resources } from '../placement.js';
import {
  expectAdvanced,
  expectConsumer,
  nameOf,
  newConsumer,
  plainAllocations,
  type Flavor,
  type Instance,
  type StepEffects,
  type WorkloadContext,
} from '../context.js';
import { candidatesFor, claim, hostOf, pickCandidate, usagesOf } from './schedule.js';

function firstInstance(ctx: WorkloadContext): Instance {
  const i = ctx.instances[0];
  if (!i) throw new StepFailure('no instance was claimed to move');
  return i;
}

/** report.move_allocations: the source consumer's allocations to the target, in one POST. */
async function moveAllocations(ctx: WorkloadContext, source: string, target: string, what: string) {
  const p = ctx.p;
  const src = await p.consumer(source);
  const dst = await p.consumer(target);
  const body = {
    [source]: {
      allocations: {},
      project_id: src.view.project_id,
      user_id: src.view.user_id,
      consumer_generation: src.view.consumer_generation,
    },
    [target]: {
      allocations: src.view.allocations,
      project_id: src.view.project_id,
      user_id: src.view.user_id,
      consumer_generation: dst.view.consumer_generation ?? null,
    },
  };
  const post = expectStatus(await p.postAllocations(body), 204);
  const moved = plainAllocations(src.view.allocations);
  await expectConsumer(ctx, source, {}, what);
  const after = await expectConsumer(ctx, target, moved, what);
  if (typeof dst.view.consumer_generation === 'number') {
    expectAdvanced(dst.view.consumer_generation, after, target, post, what);
  }
  return moved;
}

/** A destination claim for `flavor`, away from `source` where another host has room. */
async function claimDestination(
  ctx: WorkloadContext,
  instance: Instance,
  flavor: Flavor,
  what: string,
): Promise<{ host: string; allocations: AllocationRequest['allocations'] }> {
  const { answer, exchange } = await candidatesFor(ctx, flavor);
  const req = pickCandidate(ctx, answer, instance.host);
  if (!req) {
    throw new StepFailure(`${what}: no host for ${JSON.stringify(flavor.resources)}`, exchange);
  }
  await claim(ctx, instance.uuid, req, what);
  return { host: hostOf(answer, req), allocations: req.allocations };
}

/** Migration consumers are emptied (confirm) with GET and PUT at 1.28, as nova does. */
async function confirm(ctx: WorkloadContext, migration: string, what: string): Promise<void> {
  const { view } = await ctx.p.consumer(migration);
  expectStatus(
    await ctx.p.putAllocations(
      migration,
      {
        allocations: {},
        project_id: view.project_id,
        user_id: view.user_id,
        consumer_generation: view.consumer_generation,
      },
      '1.28',
    ),
    204,
  );
  await expectConsumer(ctx, migration, {}, what);
}

const providersOf = (...as: AllocationRequest['allocations'][]) =>
  new Set(as.flatMap((a) => Object.keys(a)));

export async function coldMigrate(ctx: WorkloadContext): Promise<StepEffects> {
  const instance = firstInstance(ctx);
  const migration = newConsumer(ctx);
  const from = instance.allocations;
  await moveAllocations(ctx, instance.uuid, migration, 'move to the migration');
  const dest = await claimDestination(ctx, instance, instance.flavor, 'destination claim');
  await confirm(ctx, migration, 'confirm');
  const source = instance.host;
  instance.host = dest.host;
  instance.allocations = dest.allocations;
  const touched = providersOf(from, dest.allocations);
  return {
    touched,
    bumped: touched,
    summary:
      source === dest.host
        ? `migrated within ${nameOf(ctx, source)} (no other host had room) and confirmed`
        : `migrated from ${nameOf(ctx, source)} to ${nameOf(ctx, dest.host)} and confirmed`,
  };
}

/** The flavor one size up: one more of its first class. */
function grown(flavor: Flavor): Flavor {
  const resources: Resources = { ...flavor.resources };
  const rc = 'VCPU' in resources ? 'VCPU' : Object.keys(resources).sort()[0]!;
  resources[rc] = resources[rc]! + 1;
  return { ...flavor, name: `${flavor.name}, one ${rc} more`, resources };
}

export async function resizeAndRevert(ctx: WorkloadContext): Promise<StepEffects> {
  const instance = firstInstance(ctx);
  const migration = newConsumer(ctx);
  const original = instance.allocations;
  await moveAllocations(ctx, instance.uuid, migration, 'resize: move to the migration');
  const bigger = grown(instance.flavor);
  const dest = await claimDestination(ctx, instance, bigger, 'resize: destination claim');
  const usedWhileResized = await usagesOf(ctx, Object.keys(dest.allocations));
  // Revert: the migration's (old flavor, source) allocations go back over the instance's.
  await moveAllocations(ctx, migration, instance.uuid, 'revert');
  await expectConsumer(ctx, instance.uuid, original, 'revert');
  const freed = await usagesOf(ctx, Object.keys(dest.allocations));
  for (const [rp, a] of Object.entries(dest.allocations)) {
    if (rp in original) continue;
    for (const [rc, n] of Object.entries(a.resources)) {
      const want = (usedWhileResized.get(rp)?.[rc] ?? 0) - n;
      if ((freed.get(rp)?.[rc] ?? 0) !== want) {
        throw new StepFailure(
          `revert: ${rp} still uses ${freed.get(rp)?.[rc]} ${rc}; the resized claim of ${n} should be gone`,
          ctx.p.exchanges.findLast((e) => e.path === `/resource_providers/${rp}/usages`),
        );
      }
    }
  }
  const touched = providersOf(original, dest.allocations);
  return {
    touched,
    bumped: touched,
    summary: `resized to ${JSON.stringify(bigger.resources)} on ${nameOf(ctx, dest.host)}, then reverted to ${nameOf(ctx, instance.host)}`,
  };
}

export async function deleteInstance(ctx: WorkloadContext): Promise<StepEffects> {
  const instance = ctx.instances.pop();
  if (!instance) throw new StepFailure('no instance to delete');
  const providers = Object.keys(instance.allocations);
  const before = await usagesOf(ctx, providers);
  expectStatus(await ctx.p.deleteAllocations(instance.uuid), 204);
  await expectConsumer(ctx, instance.uuid, {}, 'delete');
  const after = await usagesOf(ctx, providers);
  for (const [rp, a] of Object.entries(instance.allocations)) {
    for (const [rc, n] of Object.entries(a.resources)) {
      if ((after.get(rp)?.[rc] ?? 0) !== (before.get(rp)?.[rc] ?? 0) - n) {
        throw new StepFailure(
          `delete: ${rp}'s ${rc} usage went from ${before.get(rp)?.[rc]} to ${after.get(rp)?.[rc]}; ${n} should have been freed`,
          ctx.p.exchanges.findLast((e) => e.path === `/resource_providers/${rp}/usages`),
        );
      }
    }
  }
  return {
    touched: new Set(providers),
    bumped: new Set(),
    summary: `instance ${instance.uuid} deleted, ${providers.length} providers freed`,
  };
}
