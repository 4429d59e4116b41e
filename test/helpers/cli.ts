/** Runs the built CLI (bin/run.js) as a child process, as users and playbooks do. */
import { execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'run.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `placement-upgrade ...args` with a clean environment (plus `env`); `onStdout` sees output as it comes. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; onStdout?: (chunk: string) => void } = {},
): Promise<CliResult> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/tmp',
    NO_COLOR: '1',
    ...options.env,
  };
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env, cwd: options.cwd ?? ROOT, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.onStdout) child.stdout?.on('data', (d: Buffer) => options.onStdout!(d.toString()));
  });
}

/** `migrate --source S --target T …more`, for databases or plain URLs. */
export function migrateArgs(
  source: { url: string } | string,
  target: { url: string } | string,
  ...more: string[]
): string[] {
  const url = (d: { url: string } | string) => (typeof d === 'string' ? d : d.url);
  return ['migrate', '--source', url(source), '--target', url(target), ...more];
}

/** Parses the --json document a command printed on stdout. */
export function parseJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\n--- stderr:\n${result.stderr}`,
    );
  }
}

/**
 * Starts the CLI and calls `when(line)` for each progress line;
 * when it returns true, runs `act` (kill, write …). Resolves with the exit
 * code (null when killed by a signal).
 */
export function runWatching(
  args: string[],
  when: (line: string, index: number) => boolean,
  act: (child: ReturnType<typeof spawn>) => Promise<void> | void,
  /** Sees every line, with the child, after `when`/`act` did. */
  onLine?: (line: string, child: ReturnType<typeof spawn>) => void,
): Promise<{
  code: number | null;
  signal: string | null;
  lines: string[];
  /** When each line arrived (Date.now()). */
  timestamps: number[];
  stdout: string;
  /** What `act` threw, if it did. */
  actError: unknown;
}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' },
    });
    const lines: string[] = [];
    const timestamps: number[] = [];
    let stdout = '';
    let fired = false;
    let actError: unknown = null;
    let buffer = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        timestamps.push(Date.now());
        if (!fired && when(line, lines.length)) {
          fired = true;
          Promise.resolve()
            .then(() => act(child))
            .catch((err: unknown) => (actError = err ?? new Error('act failed')));
        }
        onLine?.(line, child);
      }
    });
    child.on('exit', (code, signal) =>
      resolve({ code, signal, lines, timestamps, stdout, actError }),
    );
  });
}
