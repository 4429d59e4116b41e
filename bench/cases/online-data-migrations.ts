/**
 * `db online-data-migrations` against `placement-manage db online_data_migrations`
 * (placement 8.0.0) on MariaDB: a pre-Train database whose allocations have
 * no consumers rows (three allocations per instance, as nova writes VCPU,
 * MEMORY_MB and DISK_GB, with random-looking UUIDs) and whose providers have
 * no root. The data is built once with bulk inserts; before each run the
 * database under test is recreated as a server-side copy of it.
 *
 * Sizes: `allocations` (default 500k; 6,000 with --quick) and `providers`
 * (default 500; 20 with --quick). Not declared as sizeKeys on purpose: the
 * harness's default allocations=100k/1M would cost placement-manage hours;
 * pass --sizes allocations=N to choose.
 *
 * `odm_max_count` (default 1,000,000; 0 with --quick): both tools run with
 * `--max-count N`, which is one pass over everything for N ≥ the rows to fix.
 * Without it (`--sizes odm_max_count=0`), placement-manage works in batches of
 * 50, each rescanning allocations from the start: on this database it
 * created 10,550 of 166,667 consumers in 222 s before it was stopped, so a
 * complete default run takes it over an hour (placement-upgrade: 15 s).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { PLACEMENT_TABLES, syncSchema, VERSION_TABLE } from '../../src/schema/migrator.js';
import type { BenchCase, BenchContext, Measurement } from '../case.js';
import { expectSuccess, runMeasured } from '../lib/process.js';
import {
  dropDatabase,
  recreateDatabase,
  scratchName,
  serverAvailable,
  urlFor,
} from '../lib/servers.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const CLI = join(ROOT, 'bin', 'run.js');
const COMMAND_JS = join(ROOT, 'dist', 'commands', 'db', 'online-data-migrations.js');
const PLACEMENT_MANAGE = '/usr/bin/placement-manage';
const ALLOCATIONS_PER_INSTANCE = 3;
const INSERT_ROWS = 5000;

const TEMPLATE = scratchName('odm_template');
const UNDER_TEST = scratchName('odm_run');

function sizes(ctx: BenchContext): {
  allocations: number;
  instances: number;
  providers: number;
  maxCount: number;
} {
  const allocations = ctx.sizes['allocations'] ?? (ctx.quick ? 6_000 : 500_000);
  return {
    allocations,
    instances: Math.ceil(allocations / ALLOCATIONS_PER_INSTANCE),
    providers: ctx.sizes['providers'] ?? (ctx.quick ? 20 : 500),
    maxCount: ctx.sizes['odm_max_count'] ?? (ctx.quick ? 0 : 1_000_000),
  };
}

/** `--max-count N` for both tools, or nothing for a complete run. */
const maxCountArgs = (ctx: BenchContext): string[] =>
  sizes(ctx).maxCount > 0 ? ['--max-count', String(sizes(ctx).maxCount)] : [];

/** A random-looking but reproducible UUID for instance `n` (index order unrelated to insert order). */
function uuidFor(n: number): string {
  let h = (n + 1) * 2654435761;
  const hex: string[] = [];
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822519) ^ Math.imul(n + i, 3266489917);
    hex.push((h >>> 0).toString(16).padStart(8, '0'));
  }
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-a${s.slice(17, 20)}-${s.slice(20, 32)}`;
}

async function open(name: string): Promise<Database> {
  return openDatabase(parseConnectionUrl(urlFor('mysql', name), 'benchmark'), { max: 1 });
}

/** Recreates the database under test as a copy of the template, server-side. */
async function freshCopy(): Promise<void> {
  await recreateDatabase('mysql', UNDER_TEST);
  const db = await open(UNDER_TEST);
  try {
    for (const table of [
      ...PLACEMENT_TABLES.filter((t) => t !== 'consumer_types'),
      VERSION_TABLE,
    ]) {
      await db.knex.raw(`CREATE TABLE \`${table}\` LIKE \`${TEMPLATE}\`.\`${table}\``);
      await db.knex.raw(`INSERT INTO \`${table}\` SELECT * FROM \`${TEMPLATE}\`.\`${table}\``);
    }
  } finally {
    await db.close();
  }
}

/** Proves the run did all the work: every instance has its consumer, every provider its root. */
async function verify(ctx: BenchContext): Promise<Record<string, number>> {
  const db = await open(UNDER_TEST);
  try {
    const one = async (sql: string) =>
      Number(db.dialect.rows<{ n: number }>(await db.knex.raw(sql))[0]?.n ?? -1);
    const consumers = await one('SELECT COUNT(*) AS n FROM consumers');
    const missing = await one(
      'SELECT COUNT(*) AS n FROM allocations a LEFT JOIN consumers c ON c.uuid = a.consumer_id WHERE c.id IS NULL',
    );
    const noRoot = await one(
      'SELECT COUNT(*) AS n FROM resource_providers WHERE root_provider_id IS NULL',
    );
    const { allocations, instances, providers, maxCount } = sizes(ctx);
    const roots = providers - noRoot;
    if (maxCount > 0) {
      // placement-manage's --max-count: at most N rows in all, migrations in order.
      const expected = Math.min(maxCount, providers + instances);
      if (roots + consumers !== expected || roots !== Math.min(providers, maxCount)) {
        throw new Error(
          `with --max-count ${maxCount} the run set ${roots} roots and created ${consumers} consumers (expected ${expected} rows in all, roots first)`,
        );
      }
      return { allocations, maxCount, rootsSet: roots, consumersCreated: consumers };
    }
    if (consumers !== instances || missing !== 0 || noRoot !== 0) {
      throw new Error(
        `the run left ${consumers}/${instances} consumers, ${missing} allocations without one, ${noRoot} providers without a root`,
      );
    }
    return { allocations, consumersCreated: consumers, rootsSet: providers };
  } finally {
    await db.close();
  }
}

async function measured(ctx: BenchContext, what: string, command: string, args: string[]) {
  await freshCopy();
  const r = await runMeasured({ command, args: [...args, ...maxCountArgs(ctx)] });
  // With --max-count both tools exit 1 while work remains (placement-manage's contract).
  expectSuccess(what, r, sizes(ctx).maxCount > 0 ? [0, 1] : [0]);
  return { ms: r.ms, peakRssBytes: r.peakRssBytes, extra: await verify(ctx) } as Measurement;
}

const onlineDataMigrations: BenchCase = {
  name: 'db online-data-migrations --max-count 1000000, MariaDB, 500k allocations without consumers',
  subject: 'placement-upgrade db online-data-migrations',
  reference: 'placement-manage db online_data_migrations (placement 8.0.0)',

  async available() {
    if (!existsSync(PLACEMENT_MANAGE)) {
      return 'placement-manage is not installed (scripts/install-system-deps.sh installs it)';
    }
    if (!existsSync(COMMAND_JS)) return 'placement-upgrade is not built (npm run build)';
    return serverAvailable('mysql');
  },

  async setup(ctx) {
    const { allocations, instances, providers } = sizes(ctx);
    ctx.log(
      `  building ${allocations} allocations of ${instances} instances on ${providers} providers`,
    );
    await recreateDatabase('mysql', TEMPLATE);
    const db = await open(TEMPLATE);
    try {
      await syncSchema(db, { target: 'b4ed3a175331' });
      const k = db.knex;
      const rps = Array.from({ length: providers }, (_, i) => ({
        id: i + 1,
        uuid: uuidFor(10_000_000 + i),
        name: `compute-${String(i + 1).padStart(4, '0')}`,
        generation: 1,
        root_provider_id: null,
        parent_provider_id: null,
      }));
      for (let i = 0; i < rps.length; i += INSERT_ROWS) {
        await k('resource_providers').insert(rps.slice(i, i + INSERT_ROWS));
      }
      let rows: Record<string, unknown>[] = [];
      for (let a = 0; a < allocations; a++) {
        const instance = Math.floor(a / ALLOCATIONS_PER_INSTANCE);
        const rc = a % ALLOCATIONS_PER_INSTANCE;
        rows.push({
          resource_provider_id: 1 + (instance % providers),
          consumer_id: uuidFor(instance),
          resource_class_id: rc,
          used: rc === 0 ? 2 : rc === 1 ? 4096 : 40,
        });
        if (rows.length === INSERT_ROWS) {
          await k('allocations').insert(rows);
          rows = [];
        }
      }
      if (rows.length > 0) await k('allocations').insert(rows);
    } finally {
      await db.close();
    }
    writeFileSync(
      join(ctx.workDir, 'placement.conf'),
      `[placement_database]\nconnection = ${urlFor('mysql', UNDER_TEST)}\n`,
    );
  },

  runSubject: (ctx) =>
    measured(ctx, 'placement-upgrade', process.execPath, [
      CLI,
      'db',
      'online-data-migrations',
      '--placement-url',
      urlFor('mysql', UNDER_TEST),
    ]),

  runReference: (ctx) =>
    measured(ctx, 'placement-manage', PLACEMENT_MANAGE, [
      '--config-file',
      join(ctx.workDir, 'placement.conf'),
      'db',
      'online_data_migrations',
    ]),

  async teardown() {
    await dropDatabase('mysql', UNDER_TEST);
    await dropDatabase('mysql', TEMPLATE);
  },
};

export default onlineDataMigrations;
