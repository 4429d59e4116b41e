/**
 * `npm run bench`: every comparison in bench/cases, one run, one machine.
 * Builds each case's data, measures subject and reference alternately
 * (so drift in the machine's load hits both), prints a side-by-side table of
 * medians, spread, peak RSS and the subject/reference ratio, and writes
 * bench/results/latest.json.
 *
 *   tsx bench/run.ts [--quick] [--repetitions N] [--sizes key=v1/v2,key=v]
 *                    [--only PATTERN] [--out FILE] [--timeout SECONDS]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchCase, BenchContext, Measurement } from './case.js';
import { hasGnuTime, onPath, runMeasured } from './lib/process.js';
import { serverVersion } from './lib/servers.js';
import { dropAllSources } from './lib/sources.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

interface Options {
  quick: boolean;
  repetitions: number;
  sizes: Record<string, number[]>;
  only: RegExp | null;
  out: string;
}

const USAGE = `Usage: npm run bench -- [--quick] [--repetitions N] [--sizes key=v1/v2,key=v] [--only PATTERN] [--out FILE] [--timeout S]

  --quick          small data, one repetition: a smoke test (CI runs it; never judge its timings)
  --repetitions N  measured runs of each side (default 3; 1 with --quick)
  --sizes          scale parameters; several values of a key separated by "/" run the cases
                   that read that key once per value; k and M suffixes allowed.
                   Default: allocations=100k/1M (allocations=2k with --quick)
  --only PATTERN   run only cases whose name matches (case-insensitive regular expression)
  --out FILE       where to write the JSON (default bench/results/latest.json)
  --timeout S      kill a measured program still running after S seconds and mark the case
                   failed (default 3600; 600 with --quick)`;

/** 100k → 100000, 1M → 1000000. */
function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a size (e.g. 100000, 100k, 1M)`);
  const n = Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6);
  return Math.round(n);
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      repetitions: { type: 'string' },
      sizes: { type: 'string', multiple: true },
      only: { type: 'string' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const repetitions =
    values.repetitions === undefined ? (quick ? 1 : 3) : Number(values.repetitions);
  if (!Number.isInteger(repetitions) || repetitions < 1)
    throw new Error('--repetitions must be a whole number ≥ 1');
  const sizes: Record<string, number[]> = { allocations: quick ? [2_000] : [100_000, 1_000_000] };
  for (const spec of values.sizes ?? []) {
    for (const pair of spec.split(',').filter((p) => p.trim() !== '')) {
      const [key, list] = pair.split('=');
      if (!key || list === undefined) throw new Error(`--sizes wants key=value (got "${pair}")`);
      sizes[key.trim()] = list.split('/').map(parseCount);
    }
  }
  const timeout = values.timeout === undefined ? (quick ? 600 : 3600) : Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new Error('--timeout must be a number of seconds > 0');
  // Read by bench/lib/process.ts: a measured program still running then is killed.
  process.env['PU_BENCH_RUN_TIMEOUT'] = String(timeout);
  return {
    quick,
    repetitions,
    sizes,
    only: values.only ? new RegExp(values.only, 'i') : null,
    out: values.out ?? join(HERE, 'results', 'latest.json'),
  };
}

/** Every case exported (default: a case or a list of cases) by bench/cases/*.ts. */
async function loadCases(): Promise<BenchCase[]> {
  const dir = join(HERE, 'cases');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort();
  const cases: BenchCase[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as {
      default?: BenchCase | BenchCase[];
    };
    const exported = mod.default;
    if (!exported) continue;
    cases.push(...(Array.isArray(exported) ? exported : [exported]));
  }
  return cases;
}

interface SideResult {
  runs: Measurement[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  peakRssBytes: number | null;
}

interface CaseResult {
  name: string;
  subject: string;
  reference: string;
  sizes: Record<string, number>;
  status: 'measured' | 'skipped' | 'failed';
  reason?: string;
  subjectResult?: SideResult;
  referenceResult?: SideResult;
  /** subject median / reference median: below 1 means placement-upgrade is faster. */
  ratio?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function summarise(runs: Measurement[]): SideResult {
  const ms = runs.map((r) => r.ms);
  const rss = runs.map((r) => r.peakRssBytes).filter((r): r is number => r !== undefined);
  return {
    runs,
    medianMs: median(ms),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    peakRssBytes: rss.length ? Math.max(...rss) : null,
  };
}

/** The size combinations a case runs at: one per value of each key it reads. */
function combinations(c: BenchCase, sizes: Record<string, number[]>): Record<string, number>[] {
  let combos: Record<string, number>[] = [{}];
  for (const [key, values] of Object.entries(sizes)) {
    if (c.sizeKeys?.includes(key)) {
      combos = combos.flatMap((combo) => values.map((v) => ({ ...combo, [key]: v })));
    }
  }
  return combos;
}

const log = (m: string) => process.stderr.write(`${m}\n`);

/** The case being run, so that an interrupt can still tear it down. */
let current: { c: BenchCase; ctx: BenchContext } | null = null;

async function runCase(
  c: BenchCase,
  sizes: Record<string, number>,
  opts: Options,
): Promise<CaseResult> {
  const base = { name: c.name, subject: c.subject, reference: c.reference, sizes };
  const workDir = mkdtempSync(join(tmpdir(), 'pu-bench-case-'));
  const ctx: BenchContext = {
    quick: opts.quick,
    repetitions: opts.repetitions,
    sizes,
    workDir,
    log,
  };
  try {
    const available = await c.available(ctx);
    if (available !== true) return { ...base, status: 'skipped', reason: available };
    log(`\n== ${c.name} ${describeSizes(sizes)}`);
    current = { c, ctx };
    try {
      await c.setup(ctx);
      const subject: Measurement[] = [];
      const reference: Measurement[] = [];
      for (let i = 0; i < opts.repetitions; i++) {
        // Alternate which side goes first, so a slow drift does not favour one.
        const order =
          i % 2 === 0 ? (['subject', 'reference'] as const) : (['reference', 'subject'] as const);
        for (const side of order) {
          log(
            `  run ${i + 1}/${opts.repetitions}: ${side === 'subject' ? c.subject : c.reference}`,
          );
          const m = side === 'subject' ? await c.runSubject(ctx) : await c.runReference(ctx);
          (side === 'subject' ? subject : reference).push(m);
          log(`    ${(m.ms / 1000).toFixed(2)} s, peak RSS ${mib(m.peakRssBytes ?? null)}`);
        }
      }
      const s = summarise(subject);
      const r = summarise(reference);
      return {
        ...base,
        status: 'measured',
        subjectResult: s,
        referenceResult: r,
        ratio: s.medianMs / r.medianMs,
      };
    } finally {
      // Always: setup may have created databases before it failed.
      current = null;
      await c.teardown(ctx).catch((err: unknown) => log(`  teardown failed: ${String(err)}`));
    }
  } catch (err) {
    log(`  FAILED: ${(err as Error).message}`);
    return { ...base, status: 'failed', reason: (err as Error).message.slice(0, 2000) };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function describeSizes(sizes: Record<string, number>): string {
  const parts = Object.entries(sizes).map(([k, v]) => `${k}=${v.toLocaleString('en-US')}`);
  return parts.length ? `[${parts.join(', ')}]` : '';
}

const seconds = (ms: number) =>
  ms >= 100_000
    ? `${(ms / 1000).toFixed(0)} s`
    : ms >= 10_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${(ms / 1000).toFixed(2)} s`;
const mib = (b: number | null) => (b === null ? 'n/a' : `${Math.round(b / 1024 / 1024)} MiB`);

/** The side-by-side table. */
export function renderTable(results: CaseResult[]): string {
  const rows: string[][] = [['case', 'side', 'tool', 'median', 'min–max', 'peak RSS', 'ratio']];
  for (const r of results) {
    const name = `${r.name} ${describeSizes(r.sizes)}`.trim();
    if (r.status !== 'measured') {
      rows.push([name, r.status, r.reason ?? '', '', '', '', '']);
      continue;
    }
    const side = (label: string, tool: string, s: SideResult, ratio: string) => [
      label === 'subject' ? name : '',
      label,
      tool,
      seconds(s.medianMs),
      `${seconds(s.minMs)}–${seconds(s.maxMs)}`,
      mib(s.peakRssBytes),
      ratio,
    ];
    rows.push(side('subject', r.subject, r.subjectResult!, `${r.ratio!.toFixed(2)}×`));
    rows.push(side('reference', r.reference, r.referenceResult!, ''));
  }
  const widths = rows[0]!.map((_, i) =>
    Math.min(60, Math.max(...rows.map((row) => row[i]!.length))),
  );
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i >= 3 ? cell.padStart(widths[i]!) : cell.slice(0, 60).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

async function toolVersion(command: string, args: string[]): Promise<string | null> {
  if (!onPath(command)) return null;
  const r = await runMeasured({ command, args });
  return (r.stdout || r.stderr).split('\n')[0]?.trim() ?? null;
}

async function machine(): Promise<Record<string, unknown>> {
  const cpu = cpus();
  return {
    os: `${osType()} ${release()}`,
    cpuModel: cpu[0]?.model ?? 'unknown',
    cpus: cpu.length,
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    node: process.version,
    mariadb: await serverVersion('mysql'),
    postgresql: await serverVersion('postgresql'),
    mysqldump: await toolVersion('mysqldump', ['--version']),
    pg_dump: await toolVersion('pg_dump', ['--version']),
    pgloader: await toolVersion('pgloader', ['--version']),
    peakRss: hasGnuTime
      ? 'GNU time %M (per process, summed over a pipeline)'
      : '/proc VmHWM polled every 25 ms',
  };
}

/** Runs every case at each of its size combinations, in order; `after` sees the results so far. */
async function runAll(
  cases: BenchCase[],
  opts: Options,
  results: CaseResult[],
  after: () => void,
): Promise<void> {
  for (const c of cases) {
    for (const sizes of combinations(c, opts.sizes)) {
      // Keys a case does not declare reach it only when given, with their first value.
      const given = Object.fromEntries(
        Object.entries(opts.sizes)
          .filter(([k]) => !c.sizeKeys?.includes(k) && userGave(k))
          .map(([k, v]) => [k, v[0]!]),
      );
      results.push(await runCase(c, { ...given, ...sizes }, opts));
      after();
    }
  }
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const all = await loadCases();
  const cases = all.filter((c) => !opts.only || opts.only.test(c.name));
  if (cases.length === 0) {
    log(`No case matches ${String(opts.only)}; cases: ${all.map((c) => c.name).join('; ')}`);
    return 1;
  }
  const started = new Date();
  const loadBefore = loadavg();
  const results: CaseResult[] = [];
  const facts = await machine();
  // Written after every case, so an interrupted run keeps what it measured.
  const save = () => {
    const report = {
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      options: {
        quick: opts.quick,
        repetitions: opts.repetitions,
        sizes: opts.sizes,
        only: opts.only?.source ?? null,
      },
      machine: { ...facts, loadAverageBefore: loadBefore, loadAverageAfter: loadavg() },
      results,
    };
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  };
  // Ctrl-C: tear the current case down and drop the generated sources before leaving.
  const stop = (signal: NodeJS.Signals) => {
    log(`\n${signal}: tearing down and dropping the benchmark's databases`);
    const running = current;
    current = null;
    void (running ? running.c.teardown(running.ctx).catch(() => undefined) : Promise.resolve())
      .then(() => dropAllSources())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runAll(cases, opts, results, save);
  } finally {
    await dropAllSources();
  }
  save();
  process.stdout.write(`\n${renderTable(results)}\n\n`);
  process.stdout.write(
    `ratio = subject median / reference median (below 1: placement-upgrade is faster). ${opts.repetitions} run(s) a side; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} at start.\n`,
  );
  process.stdout.write(
    `Written: ${opts.out.startsWith(ROOT) ? opts.out.slice(ROOT.length + 1) : opts.out}\n`,
  );
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

const argvSizes = new Set(
  process.argv
    .slice(2)
    .flatMap((a, i, arr) =>
      arr[i - 1] === '--sizes'
        ? a.split(',')
        : a.startsWith('--sizes=')
          ? a.slice(8).split(',')
          : [],
    )
    .map((p) => p.split('=')[0]!.trim()),
);
/** Whether the user named this size key (defaults only go to cases that declare the key). */
function userGave(key: string): boolean {
  return argvSizes.has(key);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`bench: ${(err as Error).message}`);
    log(USAGE);
    process.exit(1);
  },
);
