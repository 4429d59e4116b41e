/**
 * Every bad input gets a clear message, its documented exit code, and never
 * the password — in text and in --json, on every engine where it applies.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { parseJson, runCli, type CliResult } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';
import { ADMIN_URLS } from '../helpers/servers.js';

const SECRET = 'Pa55w0rd-7f#x!';
const ENCODED = encodeURIComponent(SECRET);

function expectNoLeak(r: CliResult): void {
  for (const s of [SECRET, ENCODED]) {
    expect(r.stdout).not.toContain(s);
    expect(r.stderr).not.toContain(s);
  }
}

async function both(args: string[], env?: Record<string, string>) {
  const text = await runCli(args, { env });
  const json = await runCli([...args, '--json'], { env });
  expectNoLeak(text);
  expectNoLeak(json);
  expect(json.code).toBe(text.code);
  return {
    text,
    json: parseJson<{
      error: { code: string; exitCode: number; message: string; hint: string | null };
    }>(json),
  };
}

const engines = testEngines();
const tmp = mkdtempSync(join(tmpdir(), 'pu-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('malformed and unsupported URLs', () => {
  it.each([
    [`mysql+pymysql://nova:${ENCODED}@db:notaport/nova_api`, ExitCode.BAD_URL, /port "notaport"/],
    [`mysql+pymysql://nova:ab%zz${ENCODED}@db/nova_api`, ExitCode.BAD_URL, /percent-escape/],
    [`mysql+pymysql://nova:${ENCODED}@fd00::1:3306/placement`, ExitCode.BAD_URL, /IPv6/],
    [`mysql+pymysql://nova:${ENCODED}@db.example.org`, ExitCode.BAD_URL, /names no database/],
    [`not a url ${SECRET}`, ExitCode.BAD_URL, /not a database URL/],
    [`oracle://nova:${ENCODED}@db/placement`, ExitCode.UNSUPPORTED_DATABASE, /"oracle"/],
    [`postgres://nova:${ENCODED}@db/placement`, ExitCode.UNSUPPORTED_DATABASE, /postgresql:\/\//],
    [
      `mysql+fancydriver://nova:${ENCODED}@db/placement`,
      ExitCode.UNSUPPORTED_DATABASE,
      /mysql\+fancydriver/,
    ],
    [`sqlite://host/placement.db`, ExitCode.BAD_URL, /only a file/],
  ])('%s → exit %i', async (url, code, message) => {
    const { text, json } = await both(['db', 'version', '--placement-url', url]);
    expect(text.code).toBe(code);
    expect(text.stderr).toMatch(message);
    expect(text.stderr).toMatch(/^Hint: /m);
    expect(json.error.exitCode).toBe(code);
    expect(`${json.error.message} ${json.error.hint}`).toMatch(message);
  });
});

describe('missing configuration', () => {
  it('no connection at all → 2, naming every way to give one', async () => {
    const { text, json } = await both(['db', 'sync']);
    expect(text.code).toBe(ExitCode.CONFIG);
    expect(text.stderr).toMatch(/No placement database connection was given/);
    expect(text.stderr).toMatch(
      /--placement-url.*PLACEMENT_UPGRADE_PLACEMENT_URL.*--placement-config/s,
    );
    expect(json.error.code).toBe('config');
  });

  it('a config file that does not exist → 2', async () => {
    const { text } = await both(['db', 'version', '--placement-config', join(tmp, 'nope.conf')]);
    expect(text.code).toBe(ExitCode.CONFIG);
    expect(text.stderr).toMatch(/nope\.conf: it does not exist/);
  });

  it('a config file without [placement_database] connection → 2', async () => {
    const file = join(tmp, 'empty.conf');
    writeFileSync(
      file,
      `[DEFAULT]\ndebug = true\n[database]\nconnection = mysql://x:${SECRET}@h/placement\n`,
    );
    const { text } = await both(['db', 'version', '--placement-config', file]);
    expect(text.code).toBe(ExitCode.CONFIG);
    expect(text.stderr).toMatch(/\[placement_database\] connection/);
  });

  it('an unknown flag is a usage error → 1', async () => {
    const { text, json } = await both(['db', 'sync', '--no-such-flag']);
    expect(text.code).toBe(ExitCode.USAGE);
    expect(json.error.code).toBe('usage');
  });

  it('an unknown revision is a usage error → 1', async () => {
    const { text } = await both([
      'db',
      'sync',
      '--placement-url',
      `sqlite:///${join(tmp, 'x.sqlite')}`,
      '--revision',
      'kilo',
    ]);
    expect(text.code).toBe(ExitCode.USAGE);
    expect(text.stderr).toMatch(/neither a placement revision nor a placement release/);
  });
});

describe('unreachable servers', () => {
  it.each([
    [
      `mysql+pymysql://root:${ENCODED}@127.0.0.1:1/placement`,
      /Cannot connect to MySQL at 127\.0\.0\.1:1: the connection was refused/,
    ],
    [
      `postgresql://postgres:${ENCODED}@127.0.0.1:1/placement`,
      /Cannot connect to PostgreSQL at 127\.0\.0\.1:1: the connection was refused/,
    ],
    [
      `mysql+pymysql://root:${ENCODED}@no-such-host.invalid/placement`,
      /host name does not resolve/,
    ],
    [`postgresql://postgres:${ENCODED}@[::1]:1/placement`, /Cannot connect to PostgreSQL at ::1:1/],
  ])('%s → 5', async (url, message) => {
    const { text, json } = await both(['db', 'version', '--placement-url', url]);
    expect(text.code).toBe(ExitCode.CANNOT_CONNECT);
    expect(text.stderr).toMatch(message);
    expect(json.error.code).toBe('connect_unreachable');
  });

  it('a missing MySQL socket → 5', async () => {
    const { text } = await both([
      'db',
      'version',
      '--placement-url',
      `mysql+pymysql://root:${ENCODED}@/placement?unix_socket=/nonexistent/mysqld.sock`,
    ]);
    expect(text.code).toBe(ExitCode.CANNOT_CONNECT);
    expect(text.stderr).toMatch(/socket/);
  });
});

describe('SQLite files', () => {
  it('a directory that does not exist → 10', async () => {
    const { text } = await both([
      'db',
      'sync',
      '--placement-url',
      `sqlite:///${join(tmp, 'no', 'such', 'dir', 'p.sqlite')}`,
    ]);
    expect(text.code).toBe(ExitCode.DATABASE_MISSING);
    expect(text.stderr).toMatch(/does not exist/);
  });

  it('a file that is not a database → 8 (never "cannot connect"), saying so, and left as it was', async () => {
    const file = join(tmp, 'garbage.sqlite');
    const garbage = 'this is not sqlite '.repeat(100);
    writeFileSync(file, garbage);
    const url = `sqlite:///${file}`;
    const cases: [string[], string][] = [
      [['db', 'version', '--placement-url', url], '--placement-url'],
      [['db', 'sync', '--placement-url', url], '--placement-url'],
      [['fixtures', 'generate', '--release', 'rocky', '--target', url], '--target'],
      [
        ['migrate', '--source', url, '--target', `sqlite:///${join(tmp, 'unused.sqlite')}`],
        '--source',
      ],
    ];
    for (const [args, origin] of cases) {
      const { text, json } = await both(args);
      expect({ args, code: text.code }).toEqual({ args, code: ExitCode.UNSUPPORTED_DATABASE });
      expect(text.stderr).toContain(
        `The file ${file} (from ${origin}) is not a SQLite database: it holds ${garbage.length} bytes of text. Nothing was written to it.`,
      );
      expect(text.stderr).toMatch(/^Hint: Check the path in the connection URL/m);
      expect(json.error.code).toBe('connect_not_a_database');
      expect(json.error.exitCode).toBe(ExitCode.UNSUPPORTED_DATABASE);
      expect(readFileSync(file, 'utf8')).toBe(garbage);
    }
  });
});

describe.runIf(engines.includes('mysql'))('MySQL credentials and grants', () => {
  const user = `pu_${randomBytes(3).toString('hex')}`;
  let admin: Database;
  let target: TestDatabase;
  beforeAll(async () => {
    admin = await openDatabase(parseConnectionUrl(ADMIN_URLS.mysql, 'test'), { max: 1 });
    target = await createTestDatabase('mysql', 'grants');
    await admin.knex.raw(`CREATE USER '${user}'@'%' IDENTIFIED BY '${SECRET}'`);
    await admin.knex.raw(`CREATE USER '${user}'@'localhost' IDENTIFIED BY '${SECRET}'`);
  });
  afterAll(async () => {
    await admin.knex.raw(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.knex.raw(`DROP USER IF EXISTS '${user}'@'localhost'`);
    await admin.close();
    await target.drop();
  });

  it('a wrong password → 9', async () => {
    const { text, json } = await both([
      'db',
      'version',
      '--placement-url',
      `mysql+pymysql://${user}:${ENCODED}x@127.0.0.1/${target.name}`,
    ]);
    expect(text.code).toBe(ExitCode.AUTH_FAILED);
    expect(text.stderr).toMatch(new RegExp(`refused the login of user "${user}"`));
    expect(json.error.code).toBe('connect_auth');
  });

  it('a wrong password from the environment → 9, and it is not printed', async () => {
    const { text } = await both(['db', 'version'], {
      PLACEMENT_UPGRADE_PLACEMENT_URL: `mysql+pymysql://${user}@127.0.0.1/${target.name}`,
      PLACEMENT_UPGRADE_PLACEMENT_PASSWORD: `${SECRET}-wrong`,
    });
    expect(text.code).toBe(ExitCode.AUTH_FAILED);
  });

  it('no grant on the database → 11', async () => {
    const { text } = await both([
      'db',
      'version',
      '--placement-url',
      `mysql+pymysql://${user}:${ENCODED}@127.0.0.1/${target.name}`,
    ]);
    expect(text.code).toBe(ExitCode.PERMISSION_DENIED);
    expect(text.stderr).toMatch(/denied user .* access to the database/);
  });

  it('SELECT only: db sync cannot create tables → 11', async () => {
    await admin.knex.raw(`GRANT SELECT ON \`${target.name}\`.* TO '${user}'@'%'`);
    await admin.knex.raw(`GRANT SELECT ON \`${target.name}\`.* TO '${user}'@'localhost'`);
    const { text } = await both([
      'db',
      'sync',
      '--placement-url',
      `mysql+pymysql://${user}:${ENCODED}@127.0.0.1/${target.name}`,
    ]);
    expect(text.code).toBe(ExitCode.PERMISSION_DENIED);
    expect(text.stderr).toMatch(/Permission denied while upgrading the schema/);
  });

  it('the right password from a config file, replaced by the environment → works', async () => {
    const file = join(tmp, 'placement.conf');
    writeFileSync(
      file,
      `[placement_database]\nconnection = mysql+pymysql://${user}:wrong@127.0.0.1/${target.name}?charset=utf8\n`,
    );
    const r = await runCli(['db', 'version', '--placement-config', file], {
      env: { PLACEMENT_UPGRADE_PLACEMENT_PASSWORD: SECRET },
    });
    expectNoLeak(r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('None');
  });

  it('a database that does not exist → 10', async () => {
    const { text } = await both([
      'db',
      'version',
      '--placement-url',
      `mysql+pymysql://root:@127.0.0.1/pu_no_such_db_${user}`,
    ]);
    expect(text.code).toBe(ExitCode.DATABASE_MISSING);
    expect(text.stderr).toMatch(/does not exist/);
  });
});

describe.runIf(engines.includes('postgresql'))('PostgreSQL credentials and grants', () => {
  const role = `pu_${randomBytes(3).toString('hex')}`;
  let admin: Database;
  let target: TestDatabase;
  beforeAll(async () => {
    admin = await openDatabase(parseConnectionUrl(ADMIN_URLS.postgresql, 'test'), { max: 1 });
    target = await createTestDatabase('postgresql', 'grants');
    await admin.knex.raw(`CREATE ROLE ${role} LOGIN PASSWORD '${SECRET}'`);
  });
  afterAll(async () => {
    await target.drop();
    await admin.knex.raw(`DROP ROLE IF EXISTS ${role}`);
    await admin.close();
  });

  it('a role that does not exist → 9', async () => {
    const { text } = await both([
      'db',
      'version',
      '--placement-url',
      `postgresql://${role}_nobody:${ENCODED}@127.0.0.1/${target.name}`,
    ]);
    expect(text.code).toBe(ExitCode.AUTH_FAILED);
  });

  it('a database that does not exist → 10', async () => {
    const { text } = await both([
      'db',
      'version',
      '--placement-url',
      `postgresql://postgres:${ENCODED}@127.0.0.1/pu_no_such_db_${role}`,
    ]);
    expect(text.code).toBe(ExitCode.DATABASE_MISSING);
  });

  it('no CREATE on the schema: db sync → 11', async () => {
    const { text } = await both([
      'db',
      'sync',
      '--placement-url',
      `postgresql://${role}:${ENCODED}@127.0.0.1/${target.name}`,
    ]);
    expect(text.code).toBe(ExitCode.PERMISSION_DENIED);
    expect(text.stderr).toMatch(/permission denied for schema public/);
  });

  it('CONNECT revoked → 11', async () => {
    await admin.knex.raw(`REVOKE CONNECT ON DATABASE "${target.name}" FROM PUBLIC`);
    const { text } = await both([
      'db',
      'version',
      '--placement-url',
      `postgresql://${role}:${ENCODED}@127.0.0.1/${target.name}`,
    ]);
    expect(text.code).toBe(ExitCode.PERMISSION_DENIED);
  });
});
