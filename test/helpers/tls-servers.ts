/**
 * A MariaDB server and a PostgreSQL cluster of the test's own, in a
 * temporary directory, that accept only TLS connections over TCP, with a
 * self-signed CA made by openssl. The machine's own servers are never
 * touched: own data directories, ports, sockets and no option files read.
 * Root-safe: mariadbd runs with --user=root, PostgreSQL (which refuses root)
 * as the postgres OS user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';

/** The files openssl made: a CA, a second CA that signed nothing of ours, a server and a client certificate. */
export interface TlsFiles {
  ca: string;
  otherCa: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate for the user "tlsclient", signed by `ca`. */
  clientCert: string;
  clientKey: string;
}

export interface TlsServer {
  port: number;
  /** A connection over the Unix socket, TLS-free, as the server's superuser. */
  admin(): Promise<Database>;
  stop(): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** A CA, a second CA, and a server certificate for "localhost" only (no IP address), and a client certificate. */
export function makeCertificates(dir: string): TlsFiles {
  const f = (name: string) => join(dir, name);
  const selfSigned = (name: string, cn: string) =>
    run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.pem`),
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  const signed = (name: string, cn: string, ext: string) => {
    run('openssl', [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    ]);
    writeFileSync(f(`${name}.ext`), ext);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      f(`${name}.pem`),
      '-extfile',
      f(`${name}.ext`),
    ]);
  };
  selfSigned('ca', 'placement-upgrade test CA');
  selfSigned('other-ca', 'placement-upgrade other CA');
  signed(
    'server',
    'localhost',
    'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  signed('client', 'tlsclient', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  return {
    ca: f('ca.pem'),
    otherCa: f('other-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
  };
}

/** A TCP port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Polls `open` until it connects, for at most `seconds`; fails early, with the log, when the server died. */
async function waitUntilAccepting(
  open: () => Promise<Database>,
  child: ChildProcess,
  log: string,
  seconds = 30,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const db = await open();
      await db.close();
      return;
    } catch (err) {
      last = err;
      // Between polls, not instead of them.
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-3000) : '(no log)';
  throw new Error(
    `The test server did not accept connections (${child.exitCode !== null ? `exited ${child.exitCode}` : `last: ${String((last as Error)?.message ?? last)}`}):\n${tail}`,
  );
}

/** Stops a child: `signal`, then SIGKILL if it has not exited within 30 s. */
function stopChild(child: ChildProcess, signal: NodeJS.Signals, pid = child.pid): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const bound = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(bound);
      resolve();
    });
    try {
      process.kill(pid!, signal);
    } catch {
      child.kill(signal);
    }
  });
}

/** mariadbd on its own datadir, port and socket; TCP only with TLS (require_secure_transport). */
export async function startMariaDb(dir: string, certs: TlsFiles): Promise<TlsServer> {
  const datadir = join(dir, 'mariadb');
  const socket = join(dir, 'mariadb.sock');
  const log = join(dir, 'mariadb.log');
  mkdirSync(datadir);
  const user = isRoot ? ['--user=root'] : [];
  run('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, ...user, '--skip-test-db']);
  const port = await freePort();
  const child = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      `--log-error=${log}`,
      ...user,
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      '--performance-schema=OFF',
      `--ssl-ca=${certs.ca}`,
      `--ssl-cert=${certs.serverCert}`,
      `--ssl-key=${certs.serverKey}`,
      '--require-secure-transport=ON',
    ],
    { stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')] },
  );
  // mariadb-install-db makes the OS user that ran it a passwordless (unix_socket) superuser.
  const admin = () =>
    openDatabase(
      parseConnectionUrl(
        `mysql+pymysql://${userInfo().username}@/mysql?unix_socket=${socket}`,
        'test TLS MariaDB',
      ),
      { max: 1, connectTimeoutSeconds: 5 },
    );
  const server: TlsServer = { port, admin, stop: () => stopChild(child, 'SIGTERM') };
  try {
    await waitUntilAccepting(admin, child, log);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/** The bin directory of the newest PostgreSQL installed. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  if (versions.length === 0) throw new Error(`No PostgreSQL server under ${root}`);
  return join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

/** A PostgreSQL cluster on its own directory, port and socket; TCP only with TLS (hostnossl … reject). */
export async function startPostgres(dir: string, certs: TlsFiles): Promise<TlsServer> {
  const bin = postgresBin();
  const data = join(dir, 'postgres');
  const sockets = join(dir, 'pgsocket');
  const log = join(dir, 'postgres.log');
  // The server reads its key only when it owns it and no one else can read it.
  const key = join(dir, 'pg-server.key');
  writeFileSync(key, readFileSync(certs.serverKey), { mode: 0o600 });
  mkdirSync(data, { mode: 0o700 });
  mkdirSync(sockets);
  writeFileSync(log, '');
  const asPostgres = (cmd: string, args: string[]): [string, string[]] =>
    isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  if (isRoot) {
    const { uid, gid } = postgresIds();
    for (const p of [data, sockets, key, log]) chownSync(p, uid, gid);
  }
  run(
    ...asPostgres(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]),
  );
  writeFileSync(
    join(data, 'pg_hba.conf'),
    [
      'local all all trust',
      'hostssl all tlsclient 127.0.0.1/32 cert',
      'hostssl all all 127.0.0.1/32 scram-sha-256',
      'hostnossl all all 127.0.0.1/32 reject',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const [cmd, args] = asPostgres(join(bin, 'postgres'), [
    '-D',
    data,
    '-c',
    `port=${port}`,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${sockets}`,
    '-c',
    'ssl=on',
    '-c',
    `ssl_cert_file=${certs.serverCert}`,
    '-c',
    `ssl_key_file=${key}`,
    '-c',
    `ssl_ca_file=${certs.ca}`,
    '-c',
    'shared_buffers=16MB',
    '-c',
    'max_connections=30',
    '-c',
    'fsync=off',
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')] });
  const admin = () =>
    openDatabase(
      parseConnectionUrl(
        `postgresql://postgres@/postgres?host=${sockets}&port=${port}`,
        'test TLS PostgreSQL',
      ),
      { max: 1, connectTimeoutSeconds: 5 },
    );
  // runuser waits for postgres; the postmaster's own pid is in postmaster.pid (SIGINT: fast shutdown).
  const postmaster = () => {
    const pidFile = join(data, 'postmaster.pid');
    return existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : child.pid;
  };
  const server: TlsServer = { port, admin, stop: () => stopChild(child, 'SIGINT', postmaster()) };
  try {
    await waitUntilAccepting(admin, child, log);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

function postgresIds(): { uid: number; gid: number } {
  return {
    uid: Number(run('id', ['-u', 'postgres']).trim()),
    gid: Number(run('id', ['-g', 'postgres']).trim()),
  };
}

/** A temporary directory every user can traverse (the postgres OS user reads the certificates in it). */
export function makeTlsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pu-tls-'));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeTlsDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
