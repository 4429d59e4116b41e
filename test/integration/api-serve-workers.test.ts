/**
 * `api serve --workers N` as a deployment runs it: N processes on one port,
 * each of them serving; a worker that dies is replaced, and replacements
 * that keep dying make the primary give up with their exit code; SIGTERM
 * stops every process; a database it cannot reach ends it exactly as one
 * process ends. Every wait is on a line of output or an answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, serveExpectingRefusal } from '../helpers/api-services.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';
import { describeEach } from '../helpers/each.js';
import { join } from 'node:path';

interface Serving {
  child: ChildProcess;
  url: string;
  stderr(): string;
  stdout(): string;
  /** Resolves with the first match of `pattern` in stderr (from `from` on), when it appears. */
  waitFor(pattern: RegExp, from?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** `api serve` with these flags on a free port, once it prints its listening line. */
async function serve(url: string, args: string[]): Promise<Serving> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'run.js'),
      'api',
      'serve',
      '--placement-url',
      url,
      '--port',
      String(port),
    ].concat(args),
    {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  let stdout = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const waitFor = (pattern: RegExp, from = 0) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = stderr.slice(from).match(pattern);
        if (!m) return;
        waiters.splice(waiters.indexOf(check), 1);
        resolve(m);
      };
      waiters.push(check);
      void exited.then((code) =>
        reject(new Error(`api serve exited (${code}) before printing ${pattern}:\n${stderr}`)),
      );
      check();
    });
  const s: Serving = {
    child,
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    stdout: () => stdout,
    waitFor,
    exited,
  };
  await waitFor(/listening on http/);
  return s;
}

/** The worker pids the primary's listening line names. */
function workerPids(s: Serving): number[] {
  const m = /with \d+ workers \(pids ([\d, ]+)\)/.exec(s.stderr());
  return m ? m[1]!.split(', ').map(Number) : [];
}

/** Bytes a process has written (sockets and stderr), from /proc: a worker that answered wrote. */
function bytesWritten(pid: number): number {
  const m = /^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return Number(m![1]);
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const get = (url: string, path: string) =>
  fetch(`${url}${path}`, { headers: { 'x-auth-token': 'admin' } });

/** A GET on a connection of its own (fetch would reuse one a stopped worker holds); its status. */
const getOnNewConnection = (url: string, path: string) =>
  new Promise<number>((resolve, reject) => {
    const req = httpGet(
      `${url}${path}`,
      { agent: false, headers: { 'x-auth-token': 'admin' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer to GET ${path} in 15 s`)));
    req.on('error', reject);
  });

describeEach(testEngines())('api serve --workers on %s', (engine) => {
  let database: TestDatabase;
  const started: Serving[] = [];
  const start = async (args: string[], url = database.url) => {
    const s = await serve(url, args);
    started.push(s);
    return s;
  };

  beforeAll(async () => {
    database = await createTestDatabase(engine, 'api_workers');
    const sync = await runCli(['db', 'sync', '--placement-url', database.url]);
    expect(sync.code, sync.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await database?.drop();
  });

  it('serves from two worker processes on one port, and replaces one that is killed', async () => {
    const s = await start(['--workers', '2']);
    const pids = workerPids(s);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(parentOf(pid)).toBe(s.child.pid);
    // The workers accept from the one socket themselves: with every other worker
    // stopped (SIGSTOP), the one left must answer every request, whichever it is.
    for (const [i, pid] of pids.entries()) {
      const others = pids.filter((p) => p !== pid);
      for (const other of others) process.kill(other, 'SIGSTOP');
      try {
        const before = bytesWritten(pid);
        const statuses = await Promise.all(
          Array.from({ length: 6 }, (_, k) =>
            getOnNewConnection(s.url, k % 2 ? '/' : '/resource_providers'),
          ),
        );
        expect(statuses).toEqual(Array(6).fill(200));
        expect(bytesWritten(pid), `worker ${i}, pid ${pid}`).toBeGreaterThan(before);
      } finally {
        for (const other of others) process.kill(other, 'SIGCONT');
      }
    }

    const from = s.stderr().length;
    process.kill(pids[0]!, 'SIGKILL');
    await s.waitFor(new RegExp(`Worker ${pids[0]} was killed by SIGKILL`), from);
    const [, replacement] = await s.waitFor(
      new RegExp(`Started worker (\\d+) in place of worker ${pids[0]}`),
      from,
    );
    expect(parentOf(Number(replacement))).toBe(s.child.pid);
    expect((await get(s.url, '/resource_providers')).status).toBe(200);
  });

  it('stops every worker on SIGTERM, exits 0 and reports the requests they served', async () => {
    const s = await start(['--workers', '2', '--json']);
    const pids = workerPids(s);
    expect(pids).toHaveLength(2);
    for (let i = 0; i < 4; i++) expect((await get(s.url, '/')).status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await s.exited, s.stderr()).toBe(0);
    expect(s.stderr()).toMatch(/Stopping: finishing requests in flight/);
    const result = JSON.parse(s.stdout()) as { requests: number; workers: number };
    expect(result).toMatchObject({ requests: 4, workers: 2 });
    for (const pid of pids) expect(alive(pid), `worker ${pid}`).toBe(false);
  });

  it('ends with the same exit code and message as one process when the database is unreachable', async () => {
    const unreachable =
      engine === 'sqlite'
        ? database.url.replace(/\.sqlite$/, '-missing.sqlite')
        : engine === 'mysql'
          ? 'mysql+pymysql://root@127.0.0.1:1/placement'
          : 'postgresql://postgres@127.0.0.1:1/placement';
    const args = ['--placement-url', unreachable, '--port', '0'];
    const one = await serveExpectingRefusal([...args, '--workers', '1']);
    const two = await serveExpectingRefusal([...args, '--workers', '2']);
    expect(one.listening).toBe(false);
    expect(two.listening).toBe(false);
    expect(one.code).toBe(engine === 'sqlite' ? 10 : 5);
    expect(two.code).toBe(one.code);
    expect(two.stderr).toBe(one.stderr);
  });

  it('a port in use: said once, with one process’s exit code, before any worker starts', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', () => r()));
    try {
      const args = ['--placement-url', database.url, '--port', String(port)];
      const one = await serveExpectingRefusal([...args, '--workers', '1']);
      const two = await serveExpectingRefusal([...args, '--workers', '2']);
      expect(one.code, one.stderr).toBe(1);
      expect(two.code).toBe(1);
      expect(two.stderr.match(/Cannot listen on/g)?.length, two.stderr).toBe(1);
      expect(two.stderr).not.toMatch(/worker/i);
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });

  it.runIf(engine === 'sqlite')(
    'gives up with the workers’ exit code when replacements keep dying at start-up',
    async () => {
      const s = await start(['--workers', '2']);
      const pids = workerPids(s);
      // The workers hold the file open; a new one finds no database (exit 10).
      rmSync(database.url.replace(/^sqlite:\/\//, ''));
      process.kill(pids[0]!, 'SIGKILL');
      expect(await s.exited, s.stderr()).toBe(10);
      expect(s.stderr()).toMatch(
        /3 workers in a row died before they listened, so no more are started: the last one exited with code 10/,
      );
      for (const pid of pids) expect(alive(pid), `worker ${pid}`).toBe(false);
    },
  );
});
