/**
 * The three-node Galera cluster that scripts/galera-cluster.sh starts (CI
 * starts it before the tests): where its nodes are, and the faults a test
 * may inject (kill -9, restart, isolation from the others). Tests wait for
 * a node's reported state, never for a fixed time.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { ROOT } from './cli.js';

const SCRIPT = join(ROOT, 'scripts', 'galera-cluster.sh');

export interface GaleraCluster {
  /** The SQL port of node 1, 2 and 3. */
  ports: [number, number, number];
  /** A connection URL to `database` on node `n` (1–3), as root without a password. */
  url(n: number, database: string): string;
  /** A one-connection pool on node `n`, for setting up and checking. */
  open(n: number, database?: string): Promise<Database>;
  /** Runs one of the script's fault commands (kill, start-node, isolate, rejoin) for node `n`. */
  fault(command: 'kill' | 'start-node' | 'isolate' | 'rejoin', n: number): Promise<void>;
  /** Resolves once node `n` reports wsrep_cluster_status `status` (polling its answer, 60 s at most). */
  waitForStatus(n: number, status: 'Primary' | 'non-Primary'): Promise<void>;
  /** The last `lines` lines of node `n`'s error log, for a failure's message. */
  errorLog(n: number, lines?: number): string;
}

const clusterDir = () => process.env['PU_GALERA_DIR'] ?? '/tmp/pu-galera';

function clusterEnv(): Map<string, string> | null {
  const dir = clusterDir();
  const file = join(dir, 'cluster.env');
  if (!existsSync(file)) return null;
  return new Map(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function script(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, ...args], { env: process.env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`galera-cluster.sh ${args.join(' ')}: ${stderr || stdout}`));
      else resolve();
    });
  });
}

/** Whether a node answers at all (a killed one does not). */
async function answers(url: string): Promise<boolean> {
  try {
    const db = await openDatabase(parseConnectionUrl(url, 'galera probe'), {
      max: 1,
      connectTimeoutSeconds: 3,
    });
    await db.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * The running cluster, or the reason there is none. CI (PU_REQUIRE_GALERA=1)
 * must fail rather than skip; elsewhere the suite is skipped with the reason.
 */
export async function galeraCluster(): Promise<GaleraCluster | string> {
  const env = clusterEnv();
  if (!env) {
    return 'no Galera test cluster: start it with scripts/galera-cluster.sh start';
  }
  const ports = (env.get('PU_GALERA_PORTS') ?? '').split(',').map(Number) as [
    number,
    number,
    number,
  ];
  const url = (n: number, database: string) =>
    `mysql+pymysql://root@127.0.0.1:${ports[n - 1]}/${database}?charset=utf8mb4`;
  for (const n of [1, 2, 3]) {
    if (!(await answers(url(n, 'mysql')))) {
      return `Galera node ${n} (127.0.0.1:${ports[n - 1]}) does not answer: scripts/galera-cluster.sh status`;
    }
  }
  const open = (n: number, database = 'mysql') =>
    openDatabase(parseConnectionUrl(url(n, database), 'galera test'), { max: 1 });
  return {
    ports,
    url,
    open,
    fault: (command, n) => script([command, String(n)]),
    errorLog(n, lines = 40) {
      const file = join(clusterDir(), `node${n}`, 'error.log');
      if (!existsSync(file)) return `(no ${file})`;
      return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
    },
    async waitForStatus(n, status) {
      const deadline = Date.now() + 60_000;
      let seen = '';
      while (Date.now() < deadline) {
        try {
          // mysql2 itself: openDatabase refuses a node that is not ready, which is what this waits for.
          const conn = await mysql.createConnection({
            host: '127.0.0.1',
            port: ports[n - 1],
            user: 'root',
            connectTimeout: 3000,
          });
          try {
            const [rows] = await conn.query("SHOW GLOBAL STATUS LIKE 'wsrep_cluster_status'");
            seen = (rows as { Value?: string }[])[0]?.Value ?? '';
          } finally {
            await conn.end();
          }
        } catch (err) {
          seen = (err as Error).message;
        }
        if (seen === status) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`node ${n} did not become ${status} within 60 s (last seen: ${seen})`);
    },
  };
}
