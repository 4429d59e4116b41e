/**
 * The two Placement API services the differential tests compare, both on
 * loopback: the real placement 8.0.0 under uwsgi (as Debian deploys it),
 * and ours, `placement-upgrade api serve`, run through the built CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './cli.js';
import { realPlacementRequired, sqlalchemyUrl } from './real-placement.js';

export const UWSGI = '/usr/bin/uwsgi';
export const PLACEMENT_WSGI = '/usr/bin/placement-api';

/** True when placement's WSGI app and uwsgi with its python3 plugin are installed. */
export function realPlacementServiceAvailable(): boolean {
  return (
    existsSync(UWSGI) &&
    existsSync(PLACEMENT_WSGI) &&
    (existsSync('/usr/lib/uwsgi/plugins/python3_plugin.so') ||
      existsSync('/usr/lib/uwsgi/plugins/python311_plugin.so'))
  );
}

/**
 * Whether the real placement service is here for a differential test;
 * in CI its absence is an error, not a skip.
 */
export function realPlacementServiceForTests(): boolean {
  const available = realPlacementServiceAvailable();
  if (!available && realPlacementRequired()) {
    throw new Error(
      'The real placement service (placement-api, uwsgi-core, uwsgi-plugin-python3) is required in CI: run scripts/install-system-deps.sh',
    );
  }
  return available;
}

export interface RunningService {
  url: string;
  pid: number;
  /** The placement.conf the service reads (the real placement only). */
  configFile?: string;
  /** Everything the process wrote to stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitForRoot(url: string, child: ChildProcess, log: () => string, seconds = 90) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`service exited with ${child.exitCode} before answering:\n${log()}`);
    }
    try {
      const r = await fetch(`${url}/`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`service did not answer at ${url} within ${seconds} s:\n${log()}`);
}

function stopper(child: ChildProcess, cleanup: () => void): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        cleanup();
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      child.once('exit', () => {
        clearTimeout(timer);
        cleanup();
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/** placement.conf sections beyond the service's own: section → option → value (or values). */
export type ConfSections = Record<string, Record<string, string | string[]>>;

/**
 * Starts Debian's placement 8.0.0 under uwsgi on `url`'s database, with
 * noauth2. It syncs the standard traits and resource classes on start, as
 * in production. `processes`/`threads` as a deployment sizes them.
 * `conf` adds placement.conf sections ([oslo_policy], [cors] …; a value
 * list repeats the option), `files` writes files (policy files, policy.d/…)
 * beside it; `configFile` in the result names the placement.conf.
 */
export async function startRealPlacement(
  databaseUrl: string,
  options: {
    processes?: number;
    threads?: number;
    extraArgs?: string[];
    conf?: ConfSections;
    files?: Record<string, string>;
  } = {},
): Promise<RunningService> {
  const dir = mkdtempSync(join(tmpdir(), 'pu-placement-svc-'));
  const extra = Object.entries(options.conf ?? {}).flatMap(([section, opts]) => [
    `[${section}]`,
    ...Object.entries(opts).flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map((x) => `${k} = ${x}`),
    ),
  ]);
  writeFileSync(
    join(dir, 'placement.conf'),
    [
      '[DEFAULT]',
      'debug = false',
      'use_stderr = true',
      '[api]',
      'auth_strategy = noauth2',
      '[placement_database]',
      `connection = ${sqlalchemyUrl(databaseUrl)}`,
      ...extra,
      '',
    ].join('\n'),
  );
  for (const [name, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  const child = spawn(
    UWSGI,
    [
      '--http-socket',
      `127.0.0.1:${port}`,
      '--plugin',
      'python3',
      '--wsgi-file',
      PLACEMENT_WSGI,
      '--master',
      '--lazy-apps',
      '--need-app',
      '--die-on-term',
      '--enable-threads',
      '--processes',
      String(options.processes ?? 1),
      '--threads',
      String(options.threads ?? 4),
      '--disable-logging',
      ...(options.extraArgs ?? []),
    ],
    { env: { ...process.env, OS_PLACEMENT_CONFIG_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const log = () => stderr;
  const stop = stopper(child, () => rmSync(dir, { recursive: true, force: true }));
  try {
    await waitForRoot(url, child, log);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, configFile: join(dir, 'placement.conf'), log, stop };
}

/**
 * Starts `placement-upgrade api serve` (the built CLI) on a free port: one
 * process unless `extraArgs` says --workers (comparisons need no cluster, and
 * the suite runs on two cores; api-serve-workers.test.ts tests the cluster).
 */
export async function startOurApi(
  databaseUrl: string,
  extraArgs: string[] = ['--read-only'],
): Promise<RunningService> {
  const port = await freePort();
  let stderr = '';
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'run.js'),
      'api',
      'serve',
      '--placement-url',
      databaseUrl,
      '--port',
      String(port),
      ...(extraArgs.some((a) => a.startsWith('--workers')) ? [] : ['--workers', '1']),
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const log = () => stderr;
  const stop = stopper(child, () => undefined);
  try {
    await waitForRoot(url, child, log, 30);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: child.pid!, log, stop };
}

/** How a run of `api serve` ended: its exit, or `listening` when it started serving instead. */
export interface ServeOutcome {
  code: number | null;
  listening: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs `api serve` expecting it to refuse to start: resolves with its exit,
 * or, if it starts listening after all, stops it and says so (bounded, so
 * a server that should have refused fails the test instead of hanging it).
 */
export function serveExpectingRefusal(args: string[], seconds = 30): Promise<ServeOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), 'api', 'serve', ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let listening = false;
    const stopServing = () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    };
    const bound = setTimeout(stopServing, seconds * 1000);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!listening && /listening on http/.test(stderr)) {
        listening = true;
        stopServing();
      }
    });
    child.once('close', (code) => {
      clearTimeout(bound);
      resolve({ code, listening, stdout, stderr });
    });
  });
}
