/**
 * MySQL option files, as TripleO's URLs name them
 * (mysql+pymysql:///placement?read_default_file=…&read_default_group=tripleo),
 * against the real MariaDB: the file gives what the URL leaves out (user,
 * host, port, password, bind-address), the built CLI connects with it, and a
 * password read from the file never appears in any output.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { HEAD } from '../../src/migrations/index.js';
import { parseJson, runCli, type CliResult } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';
import { ADMIN_URLS } from '../helpers/servers.js';

const TOKEN = randomBytes(6).toString('hex');
// "#" and ";" stay in the value, as PyMySQL reads it (the MySQL client would cut a comment there).
const PASSWORD = `Of-${TOKEN}-#;=:x y`;
const WRONG_TOKEN = randomBytes(6).toString('hex');
const WRONG_PASSWORD = `Wrong-${WRONG_TOKEN}-#;zz`;
const SECRETS = [PASSWORD, WRONG_PASSWORD, TOKEN, WRONG_TOKEN].flatMap((s) => [
  s,
  encodeURIComponent(s),
]);

const admin = parseConnectionUrl(ADMIN_URLS.mysql, 'test admin');
const adminLines = [
  `user=${admin.user ?? 'root'}`,
  ...(admin.password ? [`password=${admin.password}`] : []),
  `host=${admin.host ?? '127.0.0.1'}`,
  `port=${admin.port ?? 3306}`,
];
const suffix = randomBytes(3).toString('hex');
const PASSWORD_USER = `pu_of_${suffix}`;
const BIND_USER = `pu_ofb_${suffix}`;
const local = admin.host === '127.0.0.1';

async function adminSql(statements: string[]): Promise<void> {
  const db = await openDatabase(admin, { max: 1 });
  try {
    for (const sql of statements) await db.knex.raw(sql);
  } finally {
    await db.close();
  }
}

function expectNoLeak(label: string, r: CliResult): void {
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    for (const s of SECRETS) {
      expect(text.includes(s), `${label}: ${stream} shows ${JSON.stringify(s)}:\n${text}`).toBe(
        false,
      );
    }
  }
}

describe.skipIf(!testEngines().includes('mysql'))('MySQL option files on MariaDB', () => {
  let dir: string;
  let db: TestDatabase;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pu-option-file-'));
    db = await createTestDatabase('mysql', 'optfile');
    await adminSql([
      `CREATE USER '${PASSWORD_USER}'@'%' IDENTIFIED BY '${PASSWORD}'`,
      `GRANT ALL PRIVILEGES ON \`${db.name}\`.* TO '${PASSWORD_USER}'@'%'`,
      ...(local
        ? [
            `CREATE USER '${BIND_USER}'@'127.0.0.2'`,
            `GRANT ALL PRIVILEGES ON \`${db.name}\`.* TO '${BIND_USER}'@'127.0.0.2'`,
          ]
        : []),
    ]);
  });

  afterAll(async () => {
    try {
      await adminSql([
        `DROP USER IF EXISTS '${PASSWORD_USER}'@'%'`,
        `DROP USER IF EXISTS '${BIND_USER}'@'127.0.0.2'`,
      ]);
      await db?.drop();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Writes an option file (mode 600, as a password file should be) and returns its path. */
  function optionFile(name: string, text: string): string {
    const file = join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  }

  const tripleoUrl = (file: string, group = 'tripleo') =>
    `mysql+pymysql:///${db.name}?read_default_file=${file}&read_default_group=${group}`;

  it('db sync, then db version --json, with user, host and port from the option file alone', async () => {
    const file = optionFile(
      'tripleo.cnf',
      `[client]\nuser=nobody\n[tripleo]\n${adminLines.join('\n')}\n`,
    );
    const url = tripleoUrl(file);
    const sync = await runCli(['db', 'sync', '--placement-url', url]);
    expect(sync.code, sync.stderr).toBe(ExitCode.OK);
    const version = await runCli(['db', 'version', '--placement-url', url, '--json']);
    expect(version.code, version.stderr).toBe(ExitCode.OK);
    expect(parseJson<{ revision: string; isHead: boolean }>(version)).toMatchObject({
      revision: HEAD,
      isHead: true,
    });

    // What the URL gives wins: a wrong port in the file does not matter when the URL has one.
    const wrongPort = optionFile(
      'port.cnf',
      `[client]\n${adminLines.filter((l) => !l.startsWith('port=')).join('\n')}\nport=1\n`,
    );
    const hostPort = `${admin.host ?? '127.0.0.1'}:${admin.port ?? 3306}`;
    const urlWins = await runCli([
      'db',
      'version',
      '--placement-url',
      `mysql+pymysql://${hostPort}/${db.name}?read_default_file=${wrongPort}`,
    ]);
    expect(urlWins.code, urlWins.stderr).toBe(ExitCode.OK);
    expect(urlWins.stdout.trim()).toBe(HEAD);
  });

  it('a missing file or group exits 2 naming both', async () => {
    const file = optionFile('client-only.cnf', `[client]\n${adminLines.join('\n')}\n`);
    const noGroup = await runCli(['db', 'version', '--placement-url', tripleoUrl(file), '--json']);
    expect(noGroup.code, noGroup.stderr).toBe(ExitCode.CONFIG);
    const error = parseJson<{ error: { code: string; message: string } }>(noGroup).error;
    expect(error.code).toBe('config');
    expect(error.message).toContain(file);
    expect(error.message).toContain('[tripleo]');

    const missing = join(dir, 'absent.cnf');
    const noFile = await runCli(['db', 'version', '--placement-url', tripleoUrl(missing)]);
    expect(noFile.code, noFile.stderr).toBe(ExitCode.CONFIG);
    expect(noFile.stderr).toContain(missing);
    expect(noFile.stderr).toMatch(/does not exist; it was to give the group \[tripleo\]/);
  });

  it('connects with a password from the file, which appears in no output', async () => {
    const lines = (password: string) =>
      `[tripleo]\nuser=${PASSWORD_USER}\npassword = "${password}"\nhost=${admin.host ?? '127.0.0.1'}\nport=${admin.port ?? 3306}\n`;
    const url = tripleoUrl(optionFile('password.cnf', lines(PASSWORD)));
    const sync = await runCli(['db', 'sync', '--placement-url', url]);
    expectNoLeak('db sync', sync);
    expect(sync.code, sync.stderr).toBe(ExitCode.OK);
    for (const env of [{}, { DEBUG: 'placement-upgrade*' }] as Record<string, string>[]) {
      const json = await runCli(['db', 'version', '--placement-url', url, '--json'], { env });
      expectNoLeak(`db version --json ${JSON.stringify(env)}`, json);
      expect(json.code, json.stderr).toBe(ExitCode.OK);
      expect(parseJson<{ revision: string }>(json).revision).toBe(HEAD);
    }

    // A wrong one is refused as a login, and shown no more than the right one.
    const wrong = tripleoUrl(optionFile('wrong.cnf', lines(WRONG_PASSWORD)));
    for (const [args, env] of [
      [[], {}],
      [['--json'], {}],
      [['--json'], { DEBUG: 'placement-upgrade*' }],
    ] as const) {
      const r = await runCli(['db', 'version', '--placement-url', wrong, ...args], { env });
      expectNoLeak(`wrong password ${args.join(' ')} ${JSON.stringify(env)}`, r);
      expect(r.code, r.stderr).toBe(ExitCode.AUTH_FAILED);
      expect(r.stdout + r.stderr).toContain(PASSWORD_USER);
    }
  });

  it.skipIf(!local)('connects from the bind-address the file gives', async () => {
    // The user may log in from 127.0.0.2 only: without binding, the connection comes from 127.0.0.1.
    const lines = `[tripleo]\nuser=${BIND_USER}\nhost=127.0.0.1\nport=${admin.port ?? 3306}\n`;
    const bound = await runCli([
      'db',
      'version',
      '--placement-url',
      tripleoUrl(optionFile('bind.cnf', `${lines}bind-address=127.0.0.2\n`)),
    ]);
    expect(bound.code, bound.stderr).toBe(ExitCode.OK);
    const unbound = await runCli([
      'db',
      'version',
      '--placement-url',
      tripleoUrl(optionFile('nobind.cnf', lines)),
    ]);
    expect(unbound.code, unbound.stderr).toBe(ExitCode.AUTH_FAILED);
    // TEST-NET-1: an address of no host here.
    const elsewhere = await runCli([
      'db',
      'version',
      '--placement-url',
      tripleoUrl(optionFile('elsewhere.cnf', `${lines}bind-address=192.0.2.1\n`)),
    ]);
    expect(elsewhere.code, elsewhere.stderr).toBe(ExitCode.CANNOT_CONNECT);
    expect(elsewhere.stderr).toMatch(/bind-address/);
  });
});
