/**
 * `migrate --apply --revision b4ed3a175331` (plan, copy, verify) against
 * what operators used instead: the upstream scripts' `mysqldump <tables> |
 * mysql` and `pg_dump -t … | psql`, and pgloader for MariaDB → PostgreSQL.
 * Same source (a Rocky nova_api from the fixture generator), same server,
 * a freshly created empty target before every run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { NOVA_PLACEMENT_TABLE_NAMES } from '../../src/fixtures/index.js';
import type { BenchCase, BenchContext, Measurement } from '../case.js';
import { expectSuccess, onPath, runMeasured, type Command } from '../lib/process.js';
import {
  clientArgs,
  countRows,
  dropDatabase,
  recreateDatabase,
  scratchName,
  serverAvailable,
  urlFor,
  type ServerEngine,
  type ServerRef,
} from '../lib/servers.js';
import { startSecondMariadb, type SecondServer } from '../lib/second-server.js';
import { acquireSource, type Source } from '../lib/sources.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const CLI = join(ROOT, 'bin', 'run.js');
const MIGRATE_JS = join(ROOT, 'dist', 'commands', 'migrate.js');
const TABLES = [...NOVA_PLACEMENT_TABLE_NAMES];

/** The allocation count of this run: --sizes allocations=…, else 100k (2,000 with --quick). */
export function allocationsOf(ctx: BenchContext): number {
  return ctx.sizes['allocations'] ?? (ctx.quick ? 2_000 : 100_000);
}

const ENGINE_NAME: Record<ServerEngine, string> = { mysql: 'MariaDB', postgresql: 'PostgreSQL' };

interface Plan {
  from: ServerEngine;
  to: ServerEngine;
  /** The target is on a second MariaDB server the case starts (and stops). */
  secondServer?: boolean;
  reference: string;
  tools: string[];
  referenceRun(source: Source, target: Target, ctx: BenchContext): Command[];
}

/** The target database of a run: its name and the server it is on. */
interface Target {
  name: string;
  server: ServerRef;
}

function mysqlDumpLoad(source: Source, target: Target): Command[] {
  const from = clientArgs('mysql');
  const to = clientArgs(target.server);
  const common = (c: typeof from) => ['-h', c.host, '-P', String(c.port), '-u', c.user];
  const env = (c: typeof from) => (c.password ? { MYSQL_PWD: c.password } : undefined);
  return [
    {
      command: 'mysqldump',
      args: [...common(from), '--single-transaction', source.name, ...TABLES],
      env: env(from),
    },
    { command: 'mysql', args: [...common(to), target.name], env: env(to) },
  ];
}

function pgDumpLoad(source: Source, { name: target }: Target): Command[] {
  const c = clientArgs('postgresql');
  const common = ['-h', c.host, '-p', String(c.port), '-U', c.user];
  const env = c.password ? { PGPASSWORD: c.password } : undefined;
  return [
    {
      command: 'pg_dump',
      args: [...common, ...TABLES.flatMap((t) => ['-t', t]), source.name],
      env,
    },
    { command: 'psql', args: [...common, '-q', '-v', 'ON_ERROR_STOP=1', '-d', target], env },
  ];
}

function pgloaderRun(source: Source, { name: target }: Target, ctx: BenchContext): Command[] {
  const my = clientArgs('mysql');
  const pg = clientArgs('postgresql');
  const auth = (u: string, p?: string) => (p ? `${u}:${encodeURIComponent(p)}` : u);
  const file = join(ctx.workDir, `${target}.load`);
  writeFileSync(
    file,
    [
      'LOAD DATABASE',
      `  FROM mysql://${auth(my.user, my.password)}@${my.host}:${my.port}/${source.name}`,
      `  INTO postgresql://${auth(pg.user, pg.password)}@${pg.host}:${pg.port}/${target}`,
      '  WITH create tables, create indexes, reset sequences, foreign keys',
      `  INCLUDING ONLY TABLE NAMES MATCHING ${TABLES.map((t) => `'${t}'`).join(', ')}`,
      `  ALTER SCHEMA '${source.name}' RENAME TO 'public';`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return [{ command: 'pgloader', args: ['--no-ssl-cert-verification', file] }];
}

const PLANS: Plan[] = [
  {
    from: 'mysql',
    to: 'mysql',
    reference: 'mysqldump <11 tables> | mysql',
    tools: ['mysqldump', 'mysql'],
    referenceRun: mysqlDumpLoad,
  },
  {
    from: 'mysql',
    to: 'mysql',
    secondServer: true,
    reference: 'mysqldump <11 tables> | mysql (to a second server)',
    tools: ['mysqldump', 'mysql', 'mariadbd', 'mariadb-install-db'],
    referenceRun: mysqlDumpLoad,
  },
  {
    from: 'postgresql',
    to: 'postgresql',
    reference: 'pg_dump -t <11 tables> | psql',
    tools: ['pg_dump', 'psql'],
    referenceRun: pgDumpLoad,
  },
  {
    from: 'mysql',
    to: 'postgresql',
    reference: 'pgloader (MySQL → PostgreSQL)',
    tools: ['pgloader'],
    referenceRun: pgloaderRun,
  },
];

function migrateCase(plan: Plan): BenchCase {
  let source: Source | null = null;
  let allocations = 0;
  const target = scratchName(
    `target_${plan.from === 'mysql' ? 'my' : 'pg'}_${plan.to === 'mysql' ? 'my' : 'pg'}`,
  );
  const label = `${ENGINE_NAME[plan.from]}→${ENGINE_NAME[plan.to]}${plan.secondServer ? ', two servers' : ''}`;
  // The machine's server of the target engine, or the second server setup starts.
  let second: SecondServer | null = null;
  const targetServer = (): ServerRef => second ?? plan.to;

  const check = async (): Promise<Record<string, number>> => {
    const copied = await countRows(targetServer(), target, 'allocations');
    if (copied !== source!.summary.allocations) {
      throw new Error(
        `the target has ${copied} allocations, the source ${source!.summary.allocations}`,
      );
    }
    return {
      allocations: copied,
      providers: await countRows(targetServer(), target, 'resource_providers'),
    };
  };

  return {
    name: `migrate ${label}`,
    subject: 'placement-upgrade migrate --apply',
    reference: plan.reference,
    sizeKeys: ['allocations'],

    async available(): Promise<true | string> {
      if (!existsSync(MIGRATE_JS)) return 'unavailable: migrate command not built (npm run build)';
      for (const tool of plan.tools) {
        if (!onPath(tool))
          return `unavailable: ${tool} is not installed (scripts/install-system-deps.sh)`;
      }
      for (const engine of new Set([plan.from, plan.to])) {
        const up = await serverAvailable(engine);
        if (up !== true) return up;
      }
      return true;
    },

    async setup(ctx) {
      allocations = allocationsOf(ctx);
      source = await acquireSource(plan.from, allocations, ctx.log);
      if (plan.secondServer) second = await startSecondMariadb(ctx.log);
    },

    async runSubject(ctx): Promise<Measurement> {
      await recreateDatabase(targetServer(), target);
      const r = await runMeasured({
        command: process.execPath,
        args: [
          CLI,
          'migrate',
          '--source',
          source!.url,
          '--target',
          urlFor(targetServer(), target),
          '--apply',
          // Copy + verify, ending where the upstream script ends (its stamp):
          // the online data migrations and later revisions are not part of
          // what mysqldump | mysql does, so they are not timed here.
          '--revision',
          'b4ed3a175331',
          '--json',
        ],
      });
      expectSuccess('placement-upgrade migrate', r);
      const doc = JSON.parse(r.stdout) as { outcome?: string; copyPath?: { path?: string } };
      if (doc.outcome !== 'migrated')
        throw new Error(`migrate ended "${doc.outcome}", not "migrated"`);
      ctx.log(`  subject: ${(r.ms / 1000).toFixed(2)} s (copy path: ${doc.copyPath?.path ?? '?'})`);
      return { ms: r.ms, peakRssBytes: r.peakRssBytes, extra: await check() };
    },

    async runReference(ctx): Promise<Measurement> {
      await recreateDatabase(targetServer(), target);
      const r = await runMeasured(
        ...plan.referenceRun(source!, { name: target, server: targetServer() }, ctx),
      );
      expectSuccess(plan.reference, r);
      ctx.log(`  reference: ${(r.ms / 1000).toFixed(2)} s`);
      return { ms: r.ms, peakRssBytes: r.peakRssBytes, extra: await check() };
    },

    async teardown() {
      await dropDatabase(targetServer(), target).catch(() => undefined);
      await second?.stop();
      second = null;
      source = null; // the harness drops the shared sources at the end
    },
  };
}

const cases: BenchCase[] = PLANS.map(migrateCase);
export default cases;
