/**
 * `api serve --workers N`: N processes serving one port, as uwsgi runs
 * placement in several processes. node:cluster forks the workers (each
 * re-runs the same command line and serves through `serveApi`) and shares
 * the listening socket among them; this module is the primary's side: it
 * forks, waits for every worker to listen, replaces a worker that dies,
 * gives up when replacements keep dying before they listen, and stops them
 * all on request. It never prints: what happens is reported as events.
 */
import cluster, { type Worker } from 'node:cluster';
import { PlacementUpgradeError } from '../errors/errors.js';
import { ExitCode, type ExitCodeValue } from '../errors/exit-codes.js';
import { withheldUrlsForChild } from '../db/url.js';

/** What a worker sends the primary and the primary sends a worker over the IPC channel. */
export type WorkerMessage = { type: 'stop' } | { type: 'stopped'; requests: number };

/** Replacements that die before they listen, one after another, before the primary gives up. */
export const MAX_STARTUP_FAILURES = 3;

export type PoolEvent =
  | { type: 'worker-died'; pid: number; code: number | null; signal: string | null }
  | { type: 'worker-replaced'; pid: number; replacement: number };

export interface WorkerPoolOptions {
  workers: number;
  /** Exit codes a worker may end with that the primary passes on as its own. */
  knownExitCodes: readonly number[];
  onEvent(event: PoolEvent): void;
}

export interface WorkerPool {
  /** Where every worker listens. */
  readonly url: string;
  /** The live workers' process ids. */
  pids(): number[];
  /** Rejects (with the exit code to end with) once the pool gave up replacing dead workers. */
  readonly failed: Promise<never>;
  /** Asks every worker to finish its requests in flight and stop; resolves with the requests they served. */
  stop(): Promise<{ requests: number }>;
}

/**
 * The workers' young generation (V8's semi-space, in MiB): a search over
 * ten thousand providers allocates tens of MiB that die with its request;
 * with V8's default of 16 they outlive the scavenges and are copied and
 * promoted, and garbage collection was a quarter of a worker's CPU
 * (measured on the 10,000-node benchmark; at 64, a fifth less CPU per
 * request). Up to twice this per worker in memory. A semi-space size given
 * to node itself (NODE_OPTIONS or its own flags) is kept.
 */
export const WORKER_SEMI_SPACE_MIB = 64;

/** The node flags a worker starts with: the primary's, and the young generation's size. */
export function workerExecArgv(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? '',
): string[] {
  const given = [...execArgv, nodeOptions].some((a) => /--max[-_]semi[-_]space[-_]size/.test(a));
  return given ? [...execArgv] : [...execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`];
}

/**
 * Who accepts each connection. node:cluster's default on Linux is the
 * primary, which accepts and hands each connection to the next worker in
 * turn: a message between processes on every request, 1–2 ms of a 9 ms
 * request on two cores (measured on the bench's 1,000-node query, one
 * request at a time), and a busy worker handed a connection while another
 * waits idle. Here the workers accept from the shared socket themselves, so
 * the one free first takes the next request, as uwsgi's processes do with
 * --thunder-lock. NODE_CLUSTER_SCHED_POLICY=rr, given to node, restores the
 * hand-off.
 */
export function schedulingPolicy(env: NodeJS.ProcessEnv = process.env): number {
  return env['NODE_CLUSTER_SCHED_POLICY'] === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
}

function describeExit(code: number | null, signal: string | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
}

/** A worker's exit code when it is one this command documents, else 70 (a worker crashed). */
function exitCodeOf(code: number | null, known: readonly number[]): ExitCodeValue {
  return code !== null && code !== 0 && known.includes(code)
    ? (code as ExitCodeValue)
    : ExitCode.INTERNAL;
}

function workersFailed(
  what: string,
  code: number | null,
  signal: string | null,
  known: readonly number[],
): PlacementUpgradeError {
  return new PlacementUpgradeError(
    'workers_failed',
    exitCodeOf(code, known),
    `${what} ${describeExit(code, signal)}.`,
    {
      hint: 'Its own error is printed above; with --workers 1 the same command runs in one process.',
    },
  );
}

/**
 * Forks the workers and resolves once all of them listen. A worker that dies
 * before the pool is up fails the start at once (the cause — the port, the
 * database, the configuration — is the same for all), with its exit code.
 */
export function startWorkerPool(options: WorkerPoolOptions): Promise<WorkerPool> {
  const live = new Map<number, Worker>();
  const listening = new Set<number>();
  const served: number[] = [];
  let url = '';
  let up = false;
  let stopping = false;
  let startupFailures = 0;
  let giveUp: (err: PlacementUpgradeError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (giveUp = reject));
  // Callers race it against the stop signal; an unobserved rejection must not end the process.
  failed.catch(() => undefined);

  return new Promise<WorkerPool>((resolveStart, rejectStart) => {
    /** Ends every worker at once and resolves when they are gone (no orphan outlives a failure). */
    const killAll = (): Promise<void> => {
      stopping = true;
      return Promise.all(
        [...live.values()].map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) return resolve();
              w.once('exit', () => resolve());
              w.process.kill('SIGKILL');
            }),
        ),
      ).then(() => undefined);
    };
    const fork = (): Worker => {
      // The workers start from this process's argv, whose URL passwords are masked.
      const worker = cluster.fork(withheldUrlsForChild());
      live.set(worker.id, worker);
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'stopped') served.push(m.requests);
      });
      worker.on('listening', (address) => {
        listening.add(worker.id);
        startupFailures = 0;
        if (!url) {
          const host = address.address?.includes(':') ? `[${address.address}]` : address.address;
          url = `http://${host}:${address.port}`;
        }
        if (!up && listening.size === options.workers) {
          up = true;
          resolveStart(pool);
        }
      });
      worker.on('exit', (code: number | null, signal: string | null) => {
        live.delete(worker.id);
        const hadListened = listening.delete(worker.id);
        if (stopping) return;
        if (!up) {
          const err = workersFailed(
            'A worker could not start, so none serves: it',
            code,
            signal,
            options.knownExitCodes,
          );
          void killAll().then(() => rejectStart(err));
          return;
        }
        const pid = worker.process.pid ?? 0;
        options.onEvent({ type: 'worker-died', pid, code, signal });
        if (!hadListened && ++startupFailures >= MAX_STARTUP_FAILURES) {
          const err = workersFailed(
            `${MAX_STARTUP_FAILURES} workers in a row died before they listened, so no more are started: the last one`,
            code,
            signal,
            options.knownExitCodes,
          );
          void killAll().then(() => giveUp(err));
          return;
        }
        const replacement = fork();
        options.onEvent({
          type: 'worker-replaced',
          pid,
          replacement: replacement.process.pid ?? 0,
        });
      });
      return worker;
    };

    const pool: WorkerPool = {
      get url() {
        return url;
      },
      pids: () => [...live.values()].map((w) => w.process.pid ?? 0),
      failed,
      stop: () => {
        stopping = true;
        const exits = [...live.values()].map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) return resolve();
              w.once('exit', () => resolve());
              // One still starting has no stop handler yet: SIGTERM's default ends it.
              if (!listening.has(w.id)) w.process.kill('SIGTERM');
              else if (w.isConnected()) w.send({ type: 'stop' } satisfies WorkerMessage);
            }),
        );
        return Promise.all(exits).then(() => ({ requests: served.reduce((a, b) => a + b, 0) }));
      },
    };

    cluster.schedulingPolicy = schedulingPolicy();
    cluster.setupPrimary({ execArgv: workerExecArgv() });
    for (let i = 0; i < options.workers; i++) fork();
  });
}

/**
 * A worker's side: resolves when the primary asks it to stop (or the worker
 * itself gets SIGTERM/SIGINT, as every process of a terminal's group does on
 * Ctrl-C). If the primary dies, node:cluster ends the worker on its own.
 */
export function workerStopRequested(): Promise<void> {
  return new Promise<void>((resolve) => {
    const onMessage = (m: WorkerMessage) => {
      if (m.type === 'stop') done();
    };
    const done = () => {
      process.off('message', onMessage);
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('message', onMessage);
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
}

/** Tells the primary what this worker served and leaves the cluster, so the process can end. */
export function workerStopped(requests: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!process.send) return resolve();
    // Leave only once the count is on its way: disconnecting first could drop it.
    process.send({ type: 'stopped', requests } satisfies WorkerMessage, undefined, {}, () => {
      cluster.worker?.disconnect();
      resolve();
    });
  });
}

export const isClusterWorker = (): boolean => cluster.isWorker;
