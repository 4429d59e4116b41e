/**
 * TLS as nova.conf and placement.conf ask for it in their URLs (PyMySQL's
 * ssl_*, libpq's sslmode/sslrootcert/sslcert/sslkey), against a MariaDB
 * server and a PostgreSQL cluster of this file's own that accept only TLS
 * connections, with a self-signed CA: what verifies connects; what does not
 * (no TLS, another CA, a host name the certificate lacks, a missing file) is
 * refused with a clear message, its exit code, and never the password.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { parseJson, runCli, type CliResult } from '../helpers/cli.js';
import { testEngines } from '../helpers/databases.js';
import { ADMIN_URLS } from '../helpers/servers.js';
import {
  makeCertificates,
  makeTlsDir,
  removeTlsDir,
  startMariaDb,
  startPostgres,
  type TlsFiles,
  type TlsServer,
} from '../helpers/tls-servers.js';

const PASSWORD = 'Tls-pa55#w0rd!';
const ENCODED = encodeURIComponent(PASSWORD);

let dir: string;
let certs: TlsFiles;
let mariadb: TlsServer | undefined;
let postgres: TlsServer | undefined;

beforeAll(async () => {
  dir = makeTlsDir();
  certs = makeCertificates(dir);
  mariadb = await startMariaDb(dir, certs);
  const my = await mariadb.admin();
  try {
    for (const sql of [
      'CREATE DATABASE placement',
      'CREATE DATABASE migrated',
      `CREATE USER 'placement'@'%' IDENTIFIED BY '${PASSWORD}'`,
      `GRANT ALL PRIVILEGES ON *.* TO 'placement'@'%'`,
      `CREATE USER 'tlsclient'@'%' REQUIRE SUBJECT '/CN=tlsclient'`,
      `GRANT ALL PRIVILEGES ON *.* TO 'tlsclient'@'%'`,
    ]) {
      await my.knex.raw(sql);
    }
  } finally {
    await my.close();
  }
  postgres = await startPostgres(dir, certs);
  const pg = await postgres.admin();
  try {
    await pg.knex.raw(`CREATE USER placement PASSWORD '${PASSWORD}'`);
    await pg.knex.raw('CREATE USER tlsclient SUPERUSER');
    await pg.knex.raw('CREATE DATABASE placement OWNER placement');
  } finally {
    await pg.close();
  }
}, 120_000);

afterAll(async () => {
  // Also after a failed beforeAll: whatever started is stopped, and the directory goes.
  try {
    await mariadb?.stop();
    await postgres?.stop();
  } finally {
    if (dir) removeTlsDir(dir);
  }
}, 90_000);

interface ErrorJson {
  error: {
    code: string;
    exitCode: number;
    message: string;
    hint: string | null;
    details?: { tls?: string };
  };
}

function expectNoLeak(r: CliResult): void {
  for (const s of [PASSWORD, ENCODED]) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

/** Runs a command as text and as --json; both must end alike and show no password. */
async function both(args: string[]): Promise<{ text: CliResult; json: CliResult }> {
  const text = await runCli(args);
  const json = await runCli([...args, '--json']);
  expectNoLeak(text);
  expectNoLeak(json);
  expect(json.code, `${json.stdout}\n${json.stderr}`).toBe(text.code);
  return { text, json };
}

/** Refused with exit 5, a TLS message, a hint, code connect_tls and the problem named. */
async function expectTlsRefusal(url: string, problem: string, message: RegExp): Promise<void> {
  const { text, json } = await both(['db', 'version', '--placement-url', url]);
  expect(text.code, text.stderr).toBe(ExitCode.CANNOT_CONNECT);
  expect(text.stderr).toMatch(message);
  expect(text.stderr).toMatch(/TLS/);
  expect(text.stderr).toMatch(/^Hint: /m);
  expect(text.stderr).not.toMatch(/ at .*\.js:\d+/);
  expect(parseJson<ErrorJson>(json).error).toMatchObject({
    code: 'connect_tls',
    exitCode: ExitCode.CANNOT_CONNECT,
    details: { tls: problem },
  });
}

async function expectConnects(url: string): Promise<void> {
  const { text, json } = await both(['db', 'version', '--placement-url', url]);
  expect(text.code, text.stderr).toBe(ExitCode.OK);
  expect(parseJson<{ head: string }>(json)).toHaveProperty('head');
}

/** The same URL with more query parameters. */
const withQuery = (url: string, query: string) => `${url}${url.includes('?') ? '&' : '?'}${query}`;

describe('MariaDB requiring TLS (PyMySQL parameters)', () => {
  const url = (host: string, query = '', db = 'placement') =>
    `mysql+pymysql://placement:${ENCODED}@${host}:${mariadb!.port}/${db}${query ? `?${query}` : ''}`;

  it('connects with ssl_ca: db sync, then db version --json at head', async () => {
    const good = url('localhost', `charset=utf8&ssl_ca=${certs.ca}`);
    const sync = await both(['db', 'sync', '--placement-url', good]);
    expect(sync.text.code, sync.text.stderr).toBe(ExitCode.OK);
    const version = await both(['db', 'version', '--placement-url', good]);
    expect(version.text.code, version.text.stderr).toBe(ExitCode.OK);
    expect(parseJson<{ isHead: boolean }>(version.json).isHead).toBe(true);
  });

  it('refuses a URL that asks for no TLS, saying the server requires it', async () => {
    await expectTlsRefusal(
      url('localhost', 'charset=utf8'),
      'required',
      /accepts only TLS connections/,
    );
  });

  it('refuses a certificate signed by another CA', async () => {
    await expectTlsRefusal(
      url('localhost', `ssl_ca=${certs.otherCa}`),
      'untrusted',
      /not signed by a trusted CA/,
    );
  });

  it('checks the host name with ssl_ca, and the chain only with ssl_check_hostname=false', async () => {
    // The certificate names "localhost" only.
    await expectTlsRefusal(
      url('127.0.0.1', `ssl_ca=${certs.ca}`),
      'hostname',
      /does not name the host/,
    );
    await expectTlsRefusal(
      url('127.0.0.1', `ssl_ca=${certs.ca}&ssl_check_hostname=true`),
      'hostname',
      /does not name the host/,
    );
    await expectConnects(url('127.0.0.1', `ssl_ca=${certs.ca}&ssl_check_hostname=false`));
    await expectTlsRefusal(
      url('127.0.0.1', `ssl_ca=${certs.ca}&ssl_verify_cert=true&ssl_verify_identity=true`),
      'hostname',
      /does not name the host/,
    );
  });

  it('encrypts without verifying when told so (ssl_mode=REQUIRED, ssl=true)', async () => {
    await expectConnects(url('127.0.0.1', 'ssl_mode=REQUIRED'));
    await expectConnects(url('127.0.0.1', 'ssl=true'));
  });

  it('sends a client certificate (ssl_cert, ssl_key) to a user that requires one', async () => {
    const client = `mysql+pymysql://tlsclient@localhost:${mariadb!.port}/placement?ssl_ca=${certs.ca}`;
    await expectConnects(`${client}&ssl_cert=${certs.clientCert}&ssl_key=${certs.clientKey}`);
  });

  it('a missing CA file is a configuration error naming the parameter and the file', async () => {
    const missing = join(dir, 'no-such-ca.pem');
    const { text, json } = await both([
      'db',
      'version',
      '--placement-url',
      url('localhost', `ssl_ca=${missing}`),
    ]);
    expect(text.code).toBe(ExitCode.CONFIG);
    expect(text.stderr).toContain(missing);
    expect(text.stderr).toMatch(/ssl_ca/);
    expect(parseJson<ErrorJson>(json).error.code).toBe('config');
  });

  it('migrate --apply from a SQLite nova_api into it', async () => {
    const source = `sqlite:///${join(dir, 'nova_api.sqlite')}`;
    const generate = await runCli([
      'fixtures',
      'generate',
      '--release',
      'stein',
      '--target',
      source,
      '--providers',
      '3',
      '--consumers',
      '20',
      '--without',
      'all',
    ]);
    expect(generate.code, generate.stderr).toBe(ExitCode.OK);
    const target = url('localhost', `ssl_ca=${certs.ca}`, 'migrated');
    const r = await runCli([
      'migrate',
      '--source',
      source,
      '--target',
      target,
      '--apply',
      '--json',
    ]);
    expectNoLeak(r);
    expect(r.code, r.stderr.slice(-2000)).toBe(ExitCode.OK);
    const version = await runCli(['db', 'version', '--placement-url', target, '--json']);
    expect(version.code, version.stderr).toBe(ExitCode.OK);
    expect(
      parseJson<{ placementTables: string[] }>(version).placementTables.length,
    ).toBeGreaterThan(0);
  });
});

describe('PostgreSQL requiring TLS (libpq parameters)', () => {
  const url = (host: string, query = '', user = `placement:${ENCODED}`) =>
    `postgresql://${user}@${host}:${postgres!.port}/placement${query ? `?${query}` : ''}`;

  it('connects with sslmode=verify-full and sslrootcert: db sync, then db version --json at head', async () => {
    const good = url('localhost', `sslmode=verify-full&sslrootcert=${certs.ca}`);
    const sync = await both(['db', 'sync', '--placement-url', good]);
    expect(sync.text.code, sync.text.stderr).toBe(ExitCode.OK);
    const version = await both(['db', 'version', '--placement-url', good]);
    expect(version.text.code, version.text.stderr).toBe(ExitCode.OK);
    expect(parseJson<{ isHead: boolean }>(version.json).isHead).toBe(true);
  });

  it('refuses a URL that asks for no TLS (or sslmode=disable), saying the server requires it', async () => {
    await expectTlsRefusal(url('localhost'), 'required', /admits this connection only over TLS/);
    await expectTlsRefusal(url('localhost', 'sslmode=disable'), 'required', /only over TLS/);
  });

  it('refuses a certificate signed by another CA, in verify-ca and whenever a root certificate is named', async () => {
    await expectTlsRefusal(
      url('localhost', `sslmode=verify-ca&sslrootcert=${certs.otherCa}`),
      'untrusted',
      /not signed by a trusted CA/,
    );
    // libpq verifies the chain in require mode too once a root certificate is given.
    await expectTlsRefusal(
      url('localhost', `sslmode=require&sslrootcert=${certs.otherCa}`),
      'untrusted',
      /not signed by a trusted CA/,
    );
  });

  it('checks the host name in verify-full only', async () => {
    await expectTlsRefusal(
      url('127.0.0.1', `sslmode=verify-full&sslrootcert=${certs.ca}`),
      'hostname',
      /does not name the host/,
    );
    await expectConnects(url('127.0.0.1', `sslmode=verify-ca&sslrootcert=${certs.ca}`));
  });

  it('require, prefer and allow encrypt without verifying, as libpq does', async () => {
    for (const mode of ['require', 'prefer', 'allow']) {
      await expectConnects(url('127.0.0.1', `sslmode=${mode}`));
    }
  });

  it('sends a client certificate (sslcert, sslkey) for cert authentication', async () => {
    await expectConnects(
      url(
        'localhost',
        `sslmode=verify-full&sslrootcert=${certs.ca}&sslcert=${certs.clientCert}&sslkey=${certs.clientKey}`,
        'tlsclient',
      ),
    );
  });

  it('a missing root certificate is a configuration error naming the parameter and the file', async () => {
    const missing = join(dir, 'no-such-root.crt');
    const { text, json } = await both([
      'db',
      'version',
      '--placement-url',
      url('localhost', `sslmode=verify-full&sslrootcert=${missing}`),
    ]);
    expect(text.code).toBe(ExitCode.CONFIG);
    expect(text.stderr).toContain(missing);
    expect(text.stderr).toMatch(/sslrootcert/);
    expect(parseJson<ErrorJson>(json).error.code).toBe('config');
  });
});

// The machine's own servers have TLS off: requiring TLS there is refused, preferring it falls back.
const engines = testEngines();
describe.runIf(engines.includes('mysql'))('a MariaDB server without TLS', () => {
  it('ssl_ca= is refused (the server does not offer TLS); ssl_mode=PREFERRED connects without it', async () => {
    await expectTlsRefusal(
      withQuery(ADMIN_URLS.mysql, `ssl_ca=${certs.ca}`),
      'unsupported',
      /does not offer TLS/,
    );
    await expectConnects(withQuery(ADMIN_URLS.mysql, 'ssl_mode=PREFERRED'));
  });
});

describe.runIf(engines.includes('postgresql'))('a PostgreSQL server without TLS', () => {
  it('sslmode=require is refused (the server does not offer TLS); sslmode=prefer connects without it', async () => {
    await expectTlsRefusal(
      withQuery(ADMIN_URLS.postgresql, 'sslmode=require'),
      'unsupported',
      /does not offer TLS/,
    );
    await expectConnects(withQuery(ADMIN_URLS.postgresql, 'sslmode=prefer'));
  });
});
