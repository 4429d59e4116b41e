/**
 * Runs the measured programs: wall-clock time of the whole run and the peak
 * resident set size of every process in it (GNU time's %M; without
 * /usr/bin/time, the kernel's VmHWM polled from /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

export interface Command {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** A file to feed to stdin (for `mysql < dump.sql`). */
  stdinFile?: string;
}

export interface RunResult {
  ms: number;
  /** Killed after PU_BENCH_RUN_TIMEOUT seconds (npm run bench -- --timeout). */
  timedOut: boolean;
  /** Exit code of each process, in order. */
  codes: number[];
  /** Peak RSS of each process, bytes (undefined when unknown). */
  peakRss: (number | undefined)[];
  /** Sum of the processes' peaks: they run at the same time in a pipeline. */
  peakRssBytes?: number;
  stdout: string;
  stderr: string;
}

/** True when GNU time is there to report peak RSS exactly. */
export const hasGnuTime = existsSync(GNU_TIME);

function launch(c: Command, rssFile: string, stdin: 'pipe' | 'ignore' | 'inherit'): ChildProcess {
  const [bin, argv] = hasGnuTime
    ? [GNU_TIME, ['-f', '%M', '-o', rssFile, c.command, ...c.args]]
    : [c.command, c.args];
  return spawn(bin, argv, {
    env: { ...process.env, NO_COLOR: '1', ...c.env },
    stdio: [stdin, 'pipe', 'pipe'],
  });
}

/** Polls /proc/<pid>/status for VmHWM (the peak), as a fallback to GNU time. */
function pollPeak(child: ChildProcess): () => number | undefined {
  let peak: number | undefined;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak ?? 0, Number(m[1]) * 1024);
    } catch {
      // gone already
    }
  };
  const timer = setInterval(read, 25);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

/**
 * Runs one command, or a pipeline `a | b | …`, timing from the first spawn
 * to the last exit.
 */
export async function runMeasured(...commands: Command[]): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pu-bench-'));
  try {
    const started = performance.now();
    const children: ChildProcess[] = [];
    const stops: (() => number | undefined)[] = [];
    let stdout = '';
    let stderr = '';
    commands.forEach((c, i) => {
      const first = i === 0;
      const child = launch(c, join(dir, `rss-${i}`), first && !c.stdinFile ? 'ignore' : 'pipe');
      if (first && c.stdinFile) {
        createReadStream(c.stdinFile).pipe(child.stdin!);
      }
      if (!first) children[i - 1]!.stdout!.pipe(child.stdin!);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
      });
      children.push(child);
      stops.push(hasGnuTime ? () => undefined : pollPeak(child));
    });
    const limit = Number(process.env['PU_BENCH_RUN_TIMEOUT'] ?? 0) * 1000;
    let timedOut = false;
    const timer =
      limit > 0
        ? setTimeout(() => {
            timedOut = true;
            for (const child of children) child.kill('SIGKILL');
          }, limit)
        : null;
    const last = children[children.length - 1]!;
    last.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const codes = await Promise.all(
      children.map(
        (child) =>
          new Promise<number>((resolve) => {
            child.on('error', () => resolve(127));
            child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
          }),
      ),
    );
    const ms = performance.now() - started;
    if (timer) clearTimeout(timer);
    const peakRss = children.map((_, i) => {
      const polled = stops[i]!();
      if (!hasGnuTime) return polled;
      try {
        const kb = Number(
          readFileSync(join(dir, `rss-${i}`), 'utf8')
            .trim()
            .split('\n')
            .pop(),
        );
        return Number.isFinite(kb) ? kb * 1024 : undefined;
      } catch {
        return undefined;
      }
    });
    const known = peakRss.filter((p): p is number => p !== undefined);
    return {
      ms,
      timedOut,
      codes,
      peakRss,
      peakRssBytes: known.length === peakRss.length ? known.reduce((a, b) => a + b, 0) : undefined,
      stdout,
      stderr,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Throws with the tail of stderr when any process of the run failed. */
export function expectSuccess(what: string, r: RunResult, accepted: readonly number[] = [0]): void {
  if (r.timedOut) {
    throw new Error(
      `${what} did not finish within ${(r.ms / 1000).toFixed(0)} s (--timeout): killed`,
    );
  }
  if (r.codes.some((c) => !accepted.includes(c))) {
    throw new Error(`${what} exited ${r.codes.join(' | ')}: ${r.stderr.slice(-1500)}`);
  }
}

/** Is `program` on PATH? */
export function onPath(program: string): boolean {
  return (process.env['PATH'] ?? '/usr/bin:/bin')
    .split(':')
    .some((d) => d !== '' && existsSync(join(d, program)));
}
