/**
 * How fast the fixture generator builds a nova_api on MariaDB, against
 * restoring the very same database from a mysqldump of it (the fastest way to
 * get those rows back into the server without generating them).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchCase, Measurement } from '../case.js';
import { expectSuccess, onPath, runMeasured } from '../lib/process.js';
import {
  clientArgs,
  countRows,
  dropDatabase,
  recreateDatabase,
  scratchName,
  serverAvailable,
  urlFor,
} from '../lib/servers.js';
import { BENCH_RELEASE } from '../lib/sources.js';
import { allocationsOf } from './migrate.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const CLI = join(ROOT, 'bin', 'run.js');

const target = scratchName('fixture_gen');
let allocations = 0;
let expected = 0;
let dumpFile = '';

/** The measured command: generate `allocations` into the scratch database. */
async function generateFixture() {
  const r = await runMeasured({
    command: process.execPath,
    args: [
      CLI,
      'fixtures',
      'generate',
      '--release',
      BENCH_RELEASE,
      '--allocations',
      String(allocations),
      '--target',
      urlFor('mysql', target),
      '--json',
    ],
  });
  expectSuccess('fixtures generate', r);
  return r;
}

const generate: BenchCase = {
  name: 'fixtures generate MariaDB',
  subject: `placement-upgrade fixtures generate --release ${BENCH_RELEASE}`,
  reference: 'mysql < mysqldump of the same database',
  sizeKeys: ['allocations'],

  async available(): Promise<true | string> {
    for (const tool of ['mysqldump', 'mysql']) {
      if (!onPath(tool)) return `unavailable: ${tool} is not installed`;
    }
    return serverAvailable('mysql');
  },

  async setup(ctx) {
    allocations = allocationsOf(ctx);
    dumpFile = join(ctx.workDir, 'generated.sql');
    // One generation to dump; the measured runs generate again.
    await recreateDatabase('mysql', target);
    await generateFixture();
    expected = await countRows('mysql', target, 'allocations');
    const c = clientArgs('mysql');
    const dump = await runMeasured({
      command: 'mysqldump',
      args: [
        '-h',
        c.host,
        '-P',
        String(c.port),
        '-u',
        c.user,
        '--single-transaction',
        `--result-file=${dumpFile}`,
        target,
      ],
      env: c.password ? { MYSQL_PWD: c.password } : undefined,
    });
    expectSuccess('mysqldump', dump);
  },

  async runSubject(): Promise<Measurement> {
    await recreateDatabase('mysql', target);
    const r = await generateFixture();
    const got = await countRows('mysql', target, 'allocations');
    if (got !== expected) throw new Error(`generated ${got} allocations, expected ${expected}`);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes, extra: { allocations: got } };
  },

  async runReference(): Promise<Measurement> {
    await recreateDatabase('mysql', target);
    const c = clientArgs('mysql');
    const r = await runMeasured({
      command: 'mysql',
      args: ['-h', c.host, '-P', String(c.port), '-u', c.user, target],
      env: c.password ? { MYSQL_PWD: c.password } : undefined,
      stdinFile: dumpFile,
    });
    expectSuccess('mysql < dump', r);
    const got = await countRows('mysql', target, 'allocations');
    if (got !== expected) throw new Error(`restored ${got} allocations, expected ${expected}`);
    return { ms: r.ms, peakRssBytes: r.peakRssBytes, extra: { allocations: got } };
  },

  async teardown() {
    await dropDatabase('mysql', target).catch(() => undefined);
  },
};

export default generate;
