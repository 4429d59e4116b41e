/**
 * `verify --workload`: what nova does with placement, replayed through the
 * Placement API against the migrated data — inventory reports, scheduling
 * and claims, a cold migration, a resize and its revert, a delete, and the
 * flat-to-nested reshape — with the invariants checked after every step.
 * The steps run in order and stop at the first failure; on a live service
 * the run's own objects are removed at the end whatever happened.
 */
import { randomBytes } from 'node:crypto';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import type { Exchange, PlacementClient } from './client.js';
import {
  checkStep,
  seededRandom,
  type Mode,
  type StepEffects,
  type WorkloadContext,
} from './context.js';
import { exchangeLabel, StepFailure } from './failure.js';
import { NovaPlacement, WorkloadInterrupted } from './placement.js';
import { checkInvariants, takeSnapshot, type Snapshot } from './snapshot.js';
import { baseline } from './steps/baseline.js';
import { cleanup, type CleanupReport } from './steps/cleanup.js';
import { hosts } from './steps/hosts.js';
import { coldMigrate, deleteInstance, resizeAndRevert } from './steps/moves.js';
import { report } from './steps/report.js';
import { reshape } from './steps/reshape.js';
import { schedule } from './steps/schedule.js';

export { EmbeddedClient, HttpClient, type PlacementClient } from './client.js';

export interface WorkloadOptions {
  client: PlacementClient;
  mode: Mode;
  /** Compute nodes to draw from the data (and flavors to derive). */
  sample: number;
  seed: number;
  onProgress?: ProgressListener;
  /** Aborted on Ctrl-C: the run stops before its next request and cleans up. */
  signal?: AbortSignal;
}

export interface StepReport {
  step: string;
  title: string;
  state: 'pass' | 'fail' | 'skip';
  ms: number;
  requests: number;
  summary?: string;
  failure?: {
    message: string;
    expected?: unknown;
    actual?: unknown;
    request?: { method: string; path: string; microversion: string | null; body?: unknown };
    response?: { status: number; body: unknown };
  };
}

export interface WorkloadReport {
  ok: boolean;
  mode: Mode;
  api: string;
  seed: number;
  sample: number;
  /** Names of everything the run created start with this. */
  prefix: string;
  interrupted: boolean;
  steps: StepReport[];
  requests: number;
  cleanup?: CleanupReport;
}

interface Step {
  step: string;
  title: string;
  run: (ctx: WorkloadContext) => Promise<StepEffects>;
  /** The steps whose checks are the baseline's own (no step before to compare with). */
  first?: boolean;
}

const STEPS = (sample: number): Step[] => [
  {
    step: 'baseline',
    title: 'Read every provider and consumer; check the invariants',
    run: (c) => baseline(c, sample),
    first: true,
  },
  { step: 'hosts', title: 'Hosts to schedule on', run: hosts },
  { step: 'inventory-report', title: "nova-compute's inventory report", run: report },
  { step: 'schedule', title: 'Schedule and claim an instance per flavor', run: schedule },
  { step: 'cold-migrate', title: 'Cold migration, confirmed', run: coldMigrate },
  { step: 'resize-revert', title: 'Resize to a larger flavor, reverted', run: resizeAndRevert },
  { step: 'delete', title: 'Delete an instance', run: deleteInstance },
  {
    step: 'reshape',
    title: 'Reshape a flat node with VGPUs to nested, then a granular claim',
    run: reshape,
  },
];

/** The request and response of a failure, as the report shows them. */
function describe(
  e: Exchange | undefined,
): Pick<NonNullable<StepReport['failure']>, 'request' | 'response'> {
  if (!e) return {};
  return {
    request: {
      method: e.method,
      path: e.path,
      microversion: e.version ?? null,
      ...(e.requestBody === undefined ? {} : { body: e.requestBody }),
    },
    response: { status: e.status, body: e.body ?? e.text },
  };
}

/** The shared state of one run: nothing drawn yet, nothing created. */
function newContext(options: WorkloadOptions): WorkloadContext {
  const runId = randomBytes(4).toString('hex');
  return {
    p: new NovaPlacement(options.client, options.signal),
    mode: options.mode,
    rng: seededRandom(options.seed),
    prefix: `placement-upgrade-workload-${runId}`,
    ownTrait:
      options.mode === 'endpoint'
        ? `CUSTOM_PLACEMENT_UPGRADE_WORKLOAD_${runId.toUpperCase()}`
        : undefined,
    project: 'placement-upgrade-workload',
    user: 'placement-upgrade-workload',
    baseline: undefined as unknown as Snapshot,
    sampled: [],
    hosts: [],
    flavors: [],
    instances: [],
    ledger: { providers: [], consumers: new Set(), traits: [] },
  };
}

/** One step and the checks it ends with; a failure or an interruption is its outcome, not a throw. */
async function runStep(
  ctx: WorkloadContext,
  step: Step,
  previous: Snapshot | undefined,
): Promise<{ entry: StepReport; after?: Snapshot; interrupted: boolean }> {
  const started = performance.now();
  const requestsBefore = ctx.p.requests;
  ctx.p.exchanges = [];
  const entry: StepReport = {
    step: step.step,
    title: step.title,
    state: 'pass',
    ms: 0,
    requests: 0,
  };
  let after: Snapshot | undefined;
  let interrupted = false;
  try {
    const effects = await step.run(ctx);
    after = step.first ? ctx.baseline : await checkStep(ctx, previous!, effects);
    entry.summary = effects.summary;
  } catch (err) {
    if (err instanceof WorkloadInterrupted) {
      interrupted = true;
      entry.state = 'skip';
      entry.summary = 'interrupted';
    } else if (err instanceof StepFailure) {
      entry.state = 'fail';
      entry.failure = { message: err.message, ...(err.details ?? {}), ...describe(err.exchange) };
      if (err.exchange) entry.summary = `failed at ${exchangeLabel(err.exchange)}`;
    } else {
      throw err;
    }
  }
  entry.ms = Math.round(performance.now() - started);
  entry.requests = ctx.p.requests - requestsBefore;
  return { entry, after, interrupted };
}

/** On a scratch copy, the end state as a whole: every provider read again, every invariant. */
async function endState(ctx: WorkloadContext): Promise<StepReport | null> {
  try {
    checkInvariants(await takeSnapshot(ctx.p));
    return null;
  } catch (err) {
    if (!(err instanceof StepFailure)) throw err;
    return {
      step: 'end-state',
      title: 'Every provider and consumer at the end',
      state: 'fail',
      ms: 0,
      requests: 0,
      failure: { message: err.message, ...describe(err.exchange) },
    };
  }
}

/** On a live service, the run's own objects removed, never interrupted: it is what makes the service end as it began. */
async function removeOwn(
  ctx: WorkloadContext,
  client: PlacementClient,
  progress: ProgressListener,
): Promise<{ report: CleanupReport; requests: number }> {
  const title = "Remove the run's own objects";
  progress({ type: 'workload-step', step: 'cleanup', title, state: 'start' });
  const started = performance.now();
  const quiet = new NovaPlacement(client);
  const report = await cleanup(
    quiet,
    ctx.ledger,
    ctx.baseline?.all,
    ctx.newOwner ? { project: ctx.project, user: ctx.user } : undefined,
  );
  const ok = report.left.length === 0;
  progress({
    type: 'workload-step',
    step: 'cleanup',
    title,
    state: ok ? 'pass' : 'fail',
    ms: Math.round(performance.now() - started),
    summary: ok
      ? `removed ${report.removed.consumers} consumers, ${report.removed.providers} providers, ${report.removed.traits} trait`
      : `left behind: ${report.left.join('; ')}`,
  });
  return { report, requests: quiet.requests };
}

export async function runWorkload(options: WorkloadOptions): Promise<WorkloadReport> {
  const progress = options.onProgress ?? ignoreProgress;
  const ctx = newContext(options);
  const result: WorkloadReport = {
    ok: false,
    mode: options.mode,
    api: options.client.description,
    seed: options.seed,
    sample: options.sample,
    prefix: ctx.prefix,
    interrupted: false,
    steps: [],
    requests: 0,
  };
  let previous: Snapshot | undefined;
  let stopped = false;
  for (const step of STEPS(options.sample)) {
    if (stopped) {
      result.steps.push({ step: step.step, title: step.title, state: 'skip', ms: 0, requests: 0 });
      progress({ type: 'workload-step', step: step.step, title: step.title, state: 'skip' });
      continue;
    }
    progress({ type: 'workload-step', step: step.step, title: step.title, state: 'start' });
    const { entry, after, interrupted } = await runStep(ctx, step, previous);
    previous = after;
    stopped = entry.state !== 'pass';
    result.interrupted ||= interrupted;
    result.steps.push(entry);
    progress({
      type: 'workload-step',
      step: step.step,
      title: step.title,
      state: entry.state,
      ms: entry.ms,
      summary: entry.failure?.message ?? entry.summary,
    });
  }
  if (options.mode === 'scratch' && !stopped) {
    const failed = await endState(ctx);
    if (failed) result.steps.push(failed);
  }
  if (options.mode === 'endpoint') {
    const removed = await removeOwn(ctx, options.client, progress);
    result.cleanup = removed.report;
    result.requests += removed.requests;
  }
  result.requests += ctx.p.requests;
  result.ok =
    !result.interrupted &&
    result.steps.every((s) => s.state === 'pass') &&
    (result.cleanup?.left.length ?? 0) === 0;
  return result;
}
