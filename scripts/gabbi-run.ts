/**
 * Runs placement's own functional tests (the gabbi YAML files of a
 * placement source tree) against a Placement API service over HTTP: the
 * real placement 8.0.0 under uwsgi, or ours (`api serve`). A developer's
 * tool, not part of CI: the YAML files are placement's and stay in its
 * tree, read from there at run time.
 *
 * Each file runs on a fresh database with placement's schema and a freshly
 * started service, as the fixtures assume an empty database; the fixture a
 * file names is redone first (scripts/gabbi-fixtures.ts), or the file is
 * skipped with the reason.
 *
 *   npx tsx scripts/gabbi-run.ts --target real --engine mariadb
 *   npx tsx scripts/gabbi-run.ts --target ours --engine sqlite --filter 'inventory|traits' --json out.json
 *
 * Options:
 *   --source DIR     placement source tree (default /work/ref/placement-8.0.0)
 *   --target T       ours (default; build it first: npm run build) or real
 *   --engine E       mariadb|mysql (default), postgresql or sqlite
 *   --filter RE      only files whose name matches
 *   --json FILE      write a summary: per file counts and failing test names
 *   --verbose        print gabbi's failure details
 *   --schema S       who creates the schema: ours (db sync to zed, default) or placement
 *                    (placement-manage db sync)
 *
 * Exit: 0 when every file that ran passed, 1 when a test failed, 2 on a usage error.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Engine } from '../src/db/url.js';
import { syncSchema } from '../src/schema/migrator.js';
import {
  realPlacementServiceAvailable,
  startOurApi,
  startRealPlacement,
  type RunningService,
} from '../test/helpers/api-services.js';
import { ROOT } from '../test/helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/databases.js';
import { placementManageOn, sqlalchemyUrl } from '../test/helpers/real-placement.js';
import {
  apiFixtureEnv,
  chooseFixtures,
  FixtureError,
  type Env,
  type ServiceConfig,
} from './gabbi-fixtures.js';

const GABBI_RUN = '/usr/bin/gabbi-run';
const PYTHON = '/usr/bin/python3';

type Target = 'ours' | 'real';

export interface FileResult {
  file: string;
  fixtures: string[];
  outcome: 'ran' | 'skipped' | 'fixture-failed' | 'error';
  reason?: string;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Names of the tests that failed or erred. */
  failures: string[];
  seconds: number;
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\n\nSee the comment at the top of scripts/gabbi-run.ts for the options.\n`,
  );
  process.exit(2);
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** The fixtures each YAML file names and its number of tests, read by Python's yaml (gabbi's own reader). */
async function fixturesOf(
  files: string[],
): Promise<Map<string, { fixtures: string[]; tests: number }>> {
  const script = [
    'import json, sys, yaml',
    'out = {}',
    'for f in sys.argv[1:]:',
    '    with open(f) as h:',
    '        d = yaml.safe_load(h) or {}',
    "    out[f] = [d.get('fixtures') or [], len(d.get('tests') or [])]",
    'print(json.dumps(out))',
  ].join('\n');
  const r = await run(PYTHON, ['-c', script, ...files], process.env);
  if (r.code !== 0) throw new Error(`reading the YAML files failed:\n${r.out}`);
  const data = JSON.parse(r.out) as Record<string, [string[], number]>;
  return new Map(Object.entries(data).map(([f, [fixtures, tests]]) => [f, { fixtures, tests }]));
}

/** Every rule of placement's policy opened to any caller, as OpenPolicyFixture sets them (admin_api aside). */
async function openPolicyFile(dir: string): Promise<string> {
  const script = [
    'from placement import policies',
    "print('\\n'.join(r.name for r in policies.list_rules() if r.name != 'admin_api'))",
  ].join('\n');
  const r = await run(PYTHON, ['-c', script], process.env);
  if (r.code !== 0) throw new Error(`listing placement's policy rules failed:\n${r.out}`);
  const file = join(dir, 'policy.yaml');
  writeFileSync(
    file,
    r.out
      .trim()
      .split('\n')
      .map((name) => `"${name}": "@"`)
      .join('\n') + '\n',
  );
  return file;
}

/**
 * Starts real placement with a fixture's configuration: startRealPlacement
 * writes its own placement.conf, and uwsgi's --env, applied after the
 * environment it inherits, points placement at this one instead.
 */
async function startConfiguredPlacement(
  url: string,
  config: ServiceConfig,
): Promise<RunningService> {
  const dir = mkdtempSync(join(tmpdir(), 'pu-gabbi-conf-'));
  const sections: Record<string, Record<string, string>> = {
    DEFAULT: { debug: 'false', use_stderr: 'true' },
    api: { auth_strategy: 'noauth2' },
    placement_database: { connection: sqlalchemyUrl(url) },
    ...config.sections,
  };
  if (config.openPolicy) {
    sections['oslo_policy'] = {
      ...sections['oslo_policy'],
      policy_file: await openPolicyFile(dir),
    };
  }
  writeFileSync(
    join(dir, 'placement.conf'),
    Object.entries(sections)
      .map(
        ([s, o]) =>
          `[${s}]\n${Object.entries(o)
            .map(([k, v]) => `${k} = ${v}`)
            .join('\n')}\n`,
      )
      .join('\n'),
  );
  const service = await startRealPlacement(url, {
    extraArgs: ['--env', `OS_PLACEMENT_CONFIG_DIR=${dir}`],
  });
  return {
    ...service,
    stop: async () => {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const MARKS: Record<string, 'passed' | 'failed' | 'skipped'> = {
  '✓': 'passed',
  o: 'passed',
  '✗': 'failed',
  E: 'failed',
  '!': 'failed',
  '-': 'skipped',
};

/** Counts gabbi's concise runner lines: `... ✓ gabbi-runner.<file>_<test name>`. */
function parseGabbi(out: string, file: string) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const failures: string[] = [];
  const prefix = `gabbi-runner.${basename(file, '.yaml')}_`;
  for (const m of out.matchAll(/^\.\.\. (\S) (.+)$/gm)) {
    const kind = MARKS[m[1]!];
    if (!kind) continue;
    counts[kind] += 1;
    if (kind === 'failed') failures.push(m[2]!.replace(prefix, '').trim());
  }
  return { ...counts, failures };
}

async function runFile(
  file: string,
  { fixtures, tests }: { fixtures: string[]; tests: number },
  opts: { target: Target; engine: Engine; schema: 'ours' | 'placement'; verbose: boolean },
): Promise<FileResult> {
  const result: FileResult = {
    file: basename(file),
    fixtures,
    outcome: 'ran',
    tests: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    failures: [],
    seconds: 0,
  };
  const choice = chooseFixtures(fixtures, opts.target);
  if ('skip' in choice) {
    // Counted, so that the totals of two targets cover the same tests.
    return { ...result, outcome: 'skipped', reason: choice.skip, tests, skipped: tests };
  }
  let db: TestDatabase | undefined;
  let service: RunningService | undefined;
  try {
    db = await createTestDatabase(opts.engine, 'gabbi');
    if (opts.schema === 'placement') {
      const r = await placementManageOn(db.url, ['db', 'sync']);
      if (r.code !== 0) throw new Error(`placement-manage db sync failed:\n${r.stderr}`);
    } else {
      const d = await db.open();
      try {
        await syncSchema(d, { target: 'zed' });
      } finally {
        await d.close();
      }
    }
    const { plan } = choice;
    service =
      opts.target === 'ours'
        ? await startOurApi(db.url, [])
        : plan.config
          ? await startConfiguredPlacement(db.url, plan.config)
          : await startRealPlacement(db.url);
    const env: Env = apiFixtureEnv();
    try {
      if (plan.build) Object.assign(env, await plan.build(service.url, env));
    } catch (err) {
      if (!(err instanceof FixtureError)) throw err;
      return { ...result, outcome: 'fixture-failed', reason: err.message, tests, failed: tests };
    }
    const gabbi = await run(GABBI_RUN, [service.url, '--', file], { ...process.env, ...env });
    const counts = parseGabbi(gabbi.out, file);
    Object.assign(result, counts, { tests: counts.passed + counts.failed + counts.skipped });
    if (result.tests === 0) {
      Object.assign(result, { tests, failed: tests });
      result.outcome = 'error';
      result.reason = `gabbi-run ran no test (exit ${gabbi.code}): ${gabbi.out.slice(-1500)}`;
    }
    if (opts.verbose && result.failed > 0) {
      const details = gabbi.out
        .split(/^={50,}$/m)
        .slice(1)
        .join('='.repeat(70));
      process.stdout.write(`${details.slice(0, 20000)}\n`);
    }
    return result;
  } catch (err) {
    return { ...result, outcome: 'error', reason: (err as Error).message.slice(0, 2000) };
  } finally {
    await service?.stop();
    await db?.drop();
  }
}

/** One file, timed. */
async function runTimed(...args: Parameters<typeof runFile>): Promise<FileResult> {
  const started = Date.now();
  const r = await runFile(...args);
  return { ...r, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

function engineOf(name: string): Engine {
  if (name === 'mariadb' || name === 'mysql') return 'mysql';
  if (name === 'postgresql' || name === 'postgres') return 'postgresql';
  if (name === 'sqlite') return 'sqlite';
  return usage(`unknown engine ${name}: mariadb, postgresql or sqlite`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      source: { type: 'string', default: '/work/ref/placement-8.0.0' },
      target: { type: 'string', default: 'ours' },
      engine: { type: 'string', default: 'mariadb' },
      filter: { type: 'string' },
      json: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      schema: { type: 'string', default: 'ours' },
    },
  });
  const target = values.target as Target;
  if (target !== 'ours' && target !== 'real')
    usage(`unknown target ${values.target}: ours or real`);
  const schema = values.schema as 'ours' | 'placement';
  if (schema !== 'ours' && schema !== 'placement')
    usage(`unknown schema ${values.schema}: ours or placement`);
  const engine = engineOf(values.engine!);
  const dir = join(values.source!, 'placement', 'tests', 'functional', 'gabbits');
  if (!existsSync(dir)) usage(`no gabbi files in ${dir}`);
  if (!existsSync(GABBI_RUN)) usage(`${GABBI_RUN} is missing: apt-get install -y python3-gabbi`);
  if (target === 'real' && !realPlacementServiceAvailable()) {
    usage('real placement under uwsgi is missing: run scripts/install-system-deps.sh');
  }
  if (target === 'ours' && !existsSync(join(ROOT, 'dist', 'commands', 'api', 'serve.js'))) {
    usage('ours is not built: npm run build');
  }
  const filter = values.filter ? new RegExp(values.filter) : undefined;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && (!filter || filter.test(f)))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0) usage('no file matches the filter');
  const fixtures = await fixturesOf(files);

  process.stdout.write(`gabbi: ${files.length} files from ${dir}, target ${target}, ${engine}\n`);
  const results: FileResult[] = [];
  for (const file of files) {
    const r = await runTimed(file, fixtures.get(file) ?? { fixtures: [], tests: 0 }, {
      target,
      engine,
      schema,
      verbose: values.verbose!,
    });
    results.push(r);
    const what =
      r.outcome === 'ran'
        ? `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`
        : `${r.outcome.toUpperCase()}: ${r.reason}`;
    process.stdout.write(
      `${r.file.padEnd(52)} ${r.fixtures.join(',').padEnd(30)} ${what} (${r.seconds} s)\n`,
    );
    for (const name of r.failures) process.stdout.write(`    ✗ ${name}\n`);
  }
  const sum = (f: (r: FileResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const totals = {
    files: results.length,
    filesRun: results.filter((r) => r.outcome === 'ran').length,
    filesSkipped: results.filter((r) => r.outcome === 'skipped').length,
    filesFixtureFailed: results.filter((r) => r.outcome === 'fixture-failed').length,
    filesErrored: results.filter((r) => r.outcome === 'error').length,
    tests: sum((r) => r.tests),
    passed: sum((r) => r.passed),
    failed: sum((r) => r.failed),
    skipped: sum((r) => r.skipped),
  };
  process.stdout.write(
    `\ntotal (${target}, ${engine}): ${totals.passed} of ${totals.tests} tests passed, ${totals.failed} failed, ${totals.skipped} skipped; ` +
      `files: ${totals.filesRun} run, ${totals.filesSkipped} skipped, ${totals.filesFixtureFailed} fixture failed, ${totals.filesErrored} errored\n`,
  );
  if (values.json) {
    writeFileSync(
      values.json,
      `${JSON.stringify({ source: values.source, target, engine, schema, totals, files: results }, null, 2)}\n`,
    );
  }
  return totals.failed > 0 || totals.filesErrored > 0 || totals.filesFixtureFailed > 0 ? 1 : 0;
}

process.exitCode = await main();
