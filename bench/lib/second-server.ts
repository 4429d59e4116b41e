/**
 * A second MariaDB server for the two-server case, started by the bench
 * itself in a datadir (under the temporary directory) and port of its own,
 * configured like the machine's server (buffer pool, redo log, flush
 * policy, character set, packet size, read off that server) so that the
 * case measures the network hop, not a different configuration. Stopped,
 * and its datadir removed, by stop(). The machine's own server is never
 * touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { ADMIN_URLS, type DbServer } from './servers.js';

export interface SecondServer extends DbServer {
  port: number;
  stop(): Promise<void>;
}

/** The settings copied from the machine's server, by variable name. */
const COPIED = [
  'innodb_buffer_pool_size',
  'innodb_log_file_size',
  'innodb_flush_log_at_trx_commit',
  'innodb_flush_method',
  'character_set_server',
  'collation_server',
  'max_allowed_packet',
] as const;

/** A TCP port nothing listens on now, from the kernel. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function firstServerSettings(): Promise<Record<string, string>> {
  const db = await openDatabase(parseConnectionUrl(ADMIN_URLS.mysql, 'benchmark server'), {
    max: 1,
    connectTimeoutSeconds: 5,
  });
  try {
    const select = COPIED.map((v) => `@@${v} AS ${v}`).join(', ');
    const [row] = db.dialect.rows<Record<string, unknown>>(await db.knex.raw(`SELECT ${select}`));
    return Object.fromEntries(
      COPIED.flatMap((v) => (row?.[v] == null ? [] : [[v, String(row[v])]])),
    );
  } finally {
    await db.close();
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '';
}

/** Starts the second server; resolves once root answers over TCP on 127.0.0.1. */
export async function startSecondMariadb(log: (m: string) => void): Promise<SecondServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pu-bench-mariadb-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const socket = join(dir, 'mysqld.sock');
  const errorLog = join(dir, 'error.log');
  const settings = await firstServerSettings();
  const asRoot = process.getuid?.() === 0;
  const cnf = join(dir, 'my.cnf');
  writeFileSync(
    cnf,
    [
      '[mariadbd]',
      `datadir=${join(dir, 'data')}`,
      `socket=${socket}`,
      `pid-file=${join(dir, 'mysqld.pid')}`,
      `log-error=${errorLog}`,
      `port=${port}`,
      'bind-address=127.0.0.1',
      ...(asRoot ? ['user=mysql'] : []),
      ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
      '',
    ].join('\n'),
  );
  if (asRoot) {
    for (const p of [dir, join(dir, 'data')]) chownSync(p, uid('mysql'), gid('mysql'));
  }
  log(`Starting a second MariaDB server on 127.0.0.1:${port} (${dir})`);
  const install = spawnSync(
    'mariadb-install-db',
    [`--defaults-file=${cnf}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) {
    throw new Error(`mariadb-install-db failed:\n${install.stdout}${install.stderr}`);
  }
  const child = spawn('mariadbd', [`--defaults-file=${cnf}`], { stdio: 'ignore' });
  let exited: string | null = null;
  child.once('exit', (code, signal) => (exited = `exit ${code ?? signal}`));
  const client = (sql: string) =>
    spawnSync('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-e', sql], {
      encoding: 'utf8',
    });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited)
      throw new Error(`the second MariaDB server stopped (${exited}):\n${tail(errorLog)}`);
    if (client('SELECT 1').status === 0) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the second MariaDB server did not answer in 60 s:\n${tail(errorLog)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const grant = client(
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
  );
  if (grant.status !== 0) {
    await stopServer(child);
    throw new Error(`could not let root in over TCP on the second server: ${grant.stderr}`);
  }
  return {
    engine: 'mysql',
    adminUrl: `mysql+pymysql://root@127.0.0.1:${port}/mysql`,
    port,
    async stop() {
      await stopServer(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM (a clean InnoDB shutdown), then SIGKILL after 60 s. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  await gone;
  clearTimeout(timer);
}

function uid(user: string): number {
  return Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
}

function gid(user: string): number {
  return Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
}
