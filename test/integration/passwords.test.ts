/**
 * No password in any output, ever (issue 10, case 9): every command runs with
 * a distinctive password in every place a password can go — URL flags (as
 * `--flag URL` and `--flag=URL`, percent-encoded in upper and lower case), the
 * URL and password environment variables, config files named by flag or by
 * environment, the upstream rc file and its environment, a URL given without
 * its flag — with and without DEBUG, in text and in --json; the password (in
 * any encoding) appears nowhere in stdout, stderr, the JSON document or a file
 * left behind. Real MariaDB and PostgreSQL, with a user that has that password.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { ROOT, runCli, type CliResult } from '../helpers/cli.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';
import { ADMIN_URLS } from '../helpers/servers.js';

// The random part survives every encoding (it is alphanumeric), so finding it
// anywhere finds the password however it was printed, whole or in part.
const TOKEN = randomBytes(6).toString('hex');
const PASSWORD = `Pw-${TOKEN}-@:/%?#&=+ $-zz`;
const WRONG_TOKEN = randomBytes(6).toString('hex');
const WRONG_PASSWORD = `Wrong-${WRONG_TOKEN}-@:/%?#&=+-zz`;

/** The password percent-encoded with lower-case hex digits, which URL decoders accept too. */
const lowerEscapes = (s: string) =>
  encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());

/** Each way a password can be printed, for a precise failure message. */
function forms(secret: string, token: string): string[] {
  return [
    secret,
    encodeURIComponent(secret),
    encodeURI(secret),
    lowerEscapes(secret),
    encodeURIComponent(secret).replace(/%20/g, '+'),
    token,
  ];
}
const SECRETS = [...forms(PASSWORD, TOKEN), ...forms(WRONG_PASSWORD, WRONG_TOKEN)];

/** The first secret found in text, with what surrounds it. */
function findLeak(text: string): string | undefined {
  for (const s of SECRETS) {
    const i = text.indexOf(s);
    if (i !== -1) return `${JSON.stringify(s)} in …${text.slice(Math.max(0, i - 200), i + 80)}…`;
  }
  return undefined;
}

const NARROW_DEBUG = ['placement-upgrade*', 'knex:*'] as const;

const engines = testEngines().filter(
  (e): e is 'mysql' | 'postgresql' => e === 'mysql' || e === 'postgresql',
);

describeEach(engines)('no password in any output on %s', (engine) => {
  const user = `pu_pw_${randomBytes(3).toString('hex')}`;
  const { port } = parseConnectionUrl(ADMIN_URLS[engine], 'test');
  const scheme = engine === 'mysql' ? 'mysql+pymysql' : 'postgresql';
  const hostPort = `127.0.0.1:${port ?? (engine === 'mysql' ? 3306 : 5432)}`;
  let admin: Database;
  let nova: TestDatabase;
  let placement: TestDatabase;
  // Where every command runs, and its HOME: both are searched for files holding the password.
  let work: string;
  let home: string;
  /** Files the test itself wrote with the password in them (config and rc files). */
  const inputs = new Set<string>();
  let debugTurn = 0;

  const url = (db: string, password?: string, encode: (s: string) => string = encodeURIComponent) =>
    `${scheme}://${user}${password === undefined ? '' : `:${encode(password)}`}@${hostPort}/${db}`;

  function writeInput(name: string, text: string): string {
    const file = join(work, name);
    writeFileSync(file, text, { mode: 0o600 });
    inputs.add(file);
    return file;
  }

  function filesUnder(dir: string): string[] {
    const out: string[] = [];
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) out.push(...filesUnder(path));
      else out.push(path);
    }
    return out;
  }

  /** Fails if any file in the working directory or HOME that the test did not write holds the password. */
  function expectNoFileLeak(label: string): void {
    for (const file of [...filesUnder(work), ...filesUnder(home)]) {
      if (inputs.has(file)) continue;
      const leak = findLeak(readFileSync(file, 'latin1'));
      expect(leak, `${label}: the file ${file} holds the password: ${leak}`).toBeUndefined();
    }
  }

  function expectNoLeak(label: string, r: CliResult): void {
    for (const [stream, text] of [
      ['stdout', r.stdout],
      ['stderr', r.stderr],
    ] as const) {
      const leak = findLeak(text);
      expect(leak, `${label}: ${stream} shows the password: ${leak}`).toBeUndefined();
    }
    expectNoFileLeak(label);
  }

  /** Runs the CLI in the working directory and checks it printed no password; --json must print one document. */
  async function run(
    label: string,
    args: string[],
    options: { env?: Record<string, string>; debug?: string; json?: boolean } = {},
  ): Promise<CliResult> {
    const env = {
      HOME: home,
      ...(options.debug ? { DEBUG: options.debug } : {}),
      ...options.env,
    };
    const r = await runCli(options.json ? [...args, '--json'] : args, { env, cwd: work });
    const what = `${label} (${options.json ? '--json' : 'text'}, DEBUG=${options.debug ?? 'unset'})`;
    expectNoLeak(what, r);
    if (options.json) {
      expect(
        () => JSON.parse(r.stdout) as unknown,
        `${what}: stdout is not one JSON document:\n${r.stdout}\n${r.stderr.slice(-2000)}`,
      ).not.toThrow();
    }
    return r;
  }

  /**
   * As an operator runs it (text, no DEBUG), as a bug report would (--json,
   * DEBUG=*), and with one of the narrower DEBUG settings in turn.
   */
  async function runEachWay(label: string, args: string[], env: Record<string, string>) {
    const narrow = NARROW_DEBUG[debugTurn++ % NARROW_DEBUG.length]!;
    return [
      await run(label, args, { env }),
      await run(label, args, { env, debug: '*', json: true }),
      await run(label, args, { env, debug: narrow }),
    ];
  }

  /**
   * Every way to name a connection with its password. `flag` is the URL flag
   * of the command; the config and environment names are the role's.
   */
  function places(
    role: 'placement' | 'nova',
    db: string,
    flag: string,
  ): Array<{ name: string; args: string[]; env: Record<string, string> }> {
    const R = role === 'placement' ? 'PLACEMENT' : 'NOVA';
    const section = role === 'placement' ? 'placement_database' : 'api_database';
    const configFlag = role === 'placement' ? '--placement-config' : '--nova-config';
    const withPassword = writeInput(
      `${role}-${db}.conf`,
      `[DEFAULT]\ndebug = true\n\n[${section}]\nconnection = ${url(db, PASSWORD)}?charset=utf8\n`,
    );
    const withoutPassword = writeInput(
      `${role}-${db}-nopass.conf`,
      `[${section}]\nconnection = ${url(db)}\n`,
    );
    return [
      { name: `${flag} URL`, args: [flag, url(db, PASSWORD)], env: {} },
      {
        name: `${flag}=URL, lower-case escapes`,
        args: [`${flag}=${url(db, PASSWORD, lowerEscapes)}`],
        env: {},
      },
      {
        name: `PLACEMENT_UPGRADE_${R}_URL`,
        args: [],
        env: { [`PLACEMENT_UPGRADE_${R}_URL`]: url(db, PASSWORD) },
      },
      {
        name: `PLACEMENT_UPGRADE_${R}_PASSWORD`,
        args: [],
        env: {
          [`PLACEMENT_UPGRADE_${R}_URL`]: url(db),
          [`PLACEMENT_UPGRADE_${R}_PASSWORD`]: PASSWORD,
        },
      },
      { name: `${configFlag} with the password`, args: [configFlag, withPassword], env: {} },
      {
        name: `PLACEMENT_UPGRADE_${R}_CONFIG and PLACEMENT_UPGRADE_${R}_PASSWORD`,
        args: [],
        env: {
          [`PLACEMENT_UPGRADE_${R}_CONFIG`]: withoutPassword,
          [`PLACEMENT_UPGRADE_${R}_PASSWORD`]: PASSWORD,
        },
      },
    ];
  }

  /** The upstream rc variables, with the password in both. */
  const rcVariables = () => ({
    NOVA_API_DB: nova.name,
    NOVA_API_USER: user,
    NOVA_API_PASS: PASSWORD,
    NOVA_API_DB_HOST: hostPort.replace(/:\d+$/, ''),
    PLACEMENT_DB: placement.name,
    PLACEMENT_USER: user,
    PLACEMENT_PASS: PASSWORD,
    PLACEMENT_DB_HOST: hostPort.replace(/:\d+$/, ''),
  });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pu-passwords-'));
    home = join(work, '.home');
    mkdirSync(home);
    admin = await openDatabase(parseConnectionUrl(ADMIN_URLS[engine], 'test'), { max: 1 });
    nova = await createTestDatabase(engine, 'pw_nova');
    placement = await createTestDatabase(engine, 'pw_placement');
    if (engine === 'mysql') {
      for (const host of ['%', 'localhost']) {
        await admin.knex.raw('CREATE USER ?@? IDENTIFIED BY ?', [user, host, PASSWORD]);
        for (const db of [nova.name, placement.name]) {
          await admin.knex.raw(`GRANT ALL ON \`${db}\`.* TO ?@?`, [user, host]);
        }
      }
    } else {
      // knex would read the password's "?" as a placeholder; "\\?" is a literal one.
      await admin.knex.raw(
        `CREATE ROLE ${user} LOGIN PASSWORD '${PASSWORD.replace(/\?/g, '\\?')}'`,
      );
      for (const db of [nova.name, placement.name]) {
        await admin.knex.raw(`ALTER DATABASE "${db}" OWNER TO ${user}`);
      }
    }
  });

  afterAll(async () => {
    await nova?.drop();
    await placement?.drop();
    if (admin) {
      if (engine === 'mysql') {
        for (const host of ['%', 'localhost']) {
          await admin.knex.raw('DROP USER IF EXISTS ?@?', [user, host]);
        }
      } else {
        await admin.knex.raw(`DROP ROLE IF EXISTS ${user}`);
      }
      await admin.close();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('fixtures generate', async () => {
    const base = ['fixtures', 'generate', '--release', 'stein', '--providers', '3'];
    const more = ['--consumers', '6', '--without', 'all', '--drop', '--seed', '7'];
    for (const target of [
      ['--target', url(nova.name, PASSWORD)],
      [`--target=${url(nova.name, PASSWORD, lowerEscapes)}`],
    ]) {
      for (const r of await runEachWay('fixtures generate', [...base, ...target, ...more], {})) {
        expect(r.code, r.stderr).toBe(0);
      }
    }
  });

  const COMMANDS: Array<{
    name: string;
    args: string[];
    placementFlag: string;
    novaFlag?: string;
    ok: number[];
  }> = [
    // The plan runs against an empty target; the first --apply copies, the others find it done.
    {
      name: 'migrate (plan)',
      args: ['migrate'],
      placementFlag: '--target',
      novaFlag: '--source',
      ok: [0],
    },
    {
      name: 'migrate --apply',
      args: ['migrate', '--apply'],
      placementFlag: '--target',
      novaFlag: '--source',
      ok: [0, 3],
    },
    { name: 'db sync', args: ['db', 'sync'], placementFlag: '--placement-url', ok: [0] },
    { name: 'db version', args: ['db', 'version'], placementFlag: '--placement-url', ok: [0] },
    { name: 'db stamp', args: ['db', 'stamp', 'head'], placementFlag: '--placement-url', ok: [0] },
    {
      name: 'db online-data-migrations',
      args: ['db', 'online-data-migrations'],
      placementFlag: '--placement-url',
      ok: [0],
    },
    // 1: oslo.upgradecheck's "warning" (no policy file on this machine, and the like).
    {
      name: 'upgrade check',
      args: ['upgrade', 'check'],
      placementFlag: '--placement-url',
      novaFlag: '--source',
      ok: [0, 1],
    },
    { name: 'verify', args: ['verify'], placementFlag: '--target', novaFlag: '--source', ok: [0] },
  ];

  for (const command of COMMANDS) {
    it(command.name, async () => {
      const target = places('placement', placement.name, command.placementFlag);
      const source = command.novaFlag ? places('nova', nova.name, command.novaFlag) : [];
      for (const [i, p] of target.entries()) {
        const s = source[i];
        const label = `${command.name} with ${p.name}${s ? ` and ${s.name}` : ''}`;
        const args = [...command.args, ...p.args, ...(s?.args ?? [])];
        for (const r of await runEachWay(label, args, { ...p.env, ...s?.env })) {
          expect(command.ok, `${label}: exit ${r.code}\n${r.stderr.slice(-3000)}`).toContain(
            r.code,
          );
        }
      }
    });
  }

  it('migrate --rc FILE and --rc - (the upstream rc variables)', async () => {
    const vars = rcVariables();
    const rc = writeInput(
      'migrate.rc',
      Object.entries(vars)
        .map(([k, v]) => `export ${k}='${v}'`)
        .join('\n'),
    );
    for (const apply of [[], ['--apply']]) {
      for (const [how, args, env] of [
        ['--rc FILE', ['--rc', rc], {}],
        ['--rc -', ['--rc', '-'], vars],
      ] as const) {
        const all = ['migrate', ...apply, ...args, '--rc-engine', engine];
        for (const r of await runEachWay(`migrate ${apply.join(' ')} ${how}`, all, env)) {
          expect([0, 3], r.stderr).toContain(r.code);
        }
      }
    }
  });

  it('migrate --mkconfig writes a template without any password', async () => {
    const file = join(work, 'template.rc');
    const r = await run(
      'migrate --mkconfig',
      [
        'migrate',
        '--mkconfig',
        file,
        '--source',
        url(nova.name, PASSWORD),
        '--target',
        url(placement.name, PASSWORD),
      ],
      { env: { ...rcVariables(), PLACEMENT_UPGRADE_PLACEMENT_PASSWORD: PASSWORD }, debug: '*' },
    );
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^NOVA_API_PASS=""$/m);
    expect(text).toMatch(/^PLACEMENT_PASS=""$/m);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    rmSync(file);
  });

  it('api serve: started, asked, stopped', async () => {
    for (const [i, p] of places('placement', placement.name, '--placement-url').entries()) {
      for (const [json, debug] of [
        [false, undefined],
        [true, '*'],
        [false, NARROW_DEBUG[i % NARROW_DEBUG.length]],
      ] as const) {
        const label = `api serve with ${p.name} (${json ? '--json' : 'text'}, DEBUG=${debug ?? 'unset'})`;
        const args = ['api', 'serve', '--read-only', '--port', '0', ...p.args];
        const r = await serveOnce(json ? [...args, '--json'] : args, {
          HOME: home,
          ...(debug ? { DEBUG: debug } : {}),
          ...p.env,
        });
        expect(r.status, `${label}\n${r.stderr.slice(-3000)}`).toBe(200);
        expect(r.code, `${label}\n${r.stderr.slice(-3000)}`).toBe(0);
        expectNoLeak(label, r);
        if (json) expect(JSON.parse(r.stdout)).toMatchObject({ readOnly: true, requests: 1 });
      }
    }
  });

  /** Starts api serve, waits for its listening line, makes one request, stops it with SIGTERM. */
  function serveOnce(
    args: string[],
    env: Record<string, string>,
  ): Promise<CliResult & { status: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], {
        cwd: work,
        env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let status = 0;
      let asked = false;
      // Not a delay: a bound on a hang, so a server that never listens fails with its log.
      const bound = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stderr);
        if (m && !asked) {
          asked = true;
          fetch(`${m[1]}/resource_providers`, {
            headers: { 'x-auth-token': 'admin', 'openstack-api-version': 'placement latest' },
          })
            .then(async (response) => {
              status = response.status;
              await response.text();
            })
            .catch((err: unknown) => (stderr += `\n[test] request failed: ${String(err)}`))
            .finally(() => child.kill('SIGTERM'));
        }
      });
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(bound);
        resolve({ code: code ?? 1, stdout, stderr, status });
      });
    });
  }

  describe('a URL given without its flag is a usage error that shows it redacted', () => {
    const cases = (): Array<[string, string[]]> => [
      ['migrate URL', ['migrate', url(nova.name, PASSWORD)]],
      [
        'migrate --source URL URL',
        ['migrate', '--source', url(nova.name, PASSWORD), url(placement.name, PASSWORD)],
      ],
      ['db version URL', ['db', 'version', url(placement.name, PASSWORD)]],
      ['db URL', ['db', url(placement.name, PASSWORD)]],
      ['URL alone', [url(placement.name, PASSWORD)]],
      ['URL with a query', ['migrate', `${url(nova.name, PASSWORD)}?charset=utf8`]],
    ];
    it.each([undefined, '*'])('DEBUG=%s', async (debug) => {
      for (const [label, args] of cases()) {
        const text = await run(label, args, { debug });
        expect(text.code, `${label}\n${text.stderr}`).toBe(ExitCode.USAGE);
        expect(text.stderr).toContain(`${scheme}://${user}:***@${hostPort}/`);
        const json = await run(label, args, { debug, json: true });
        expect(json.code, `${label}\n${json.stderr}`).toBe(ExitCode.USAGE);
        const doc = JSON.parse(json.stdout) as {
          error: { code: string; exitCode: number; message: string };
        };
        expect(doc.error).toMatchObject({ code: 'usage', exitCode: ExitCode.USAGE });
        expect(doc.error.message).toContain(`${scheme}://${user}:***@${hostPort}/`);
      }
    });
  });

  it('flags that do not exist, and a password in the query string', async () => {
    for (const [label, args] of [
      // The README names --nova-url; a command without it must not print its value either.
      ['db version --nova-url', ['db', 'version', '--nova-url', url(nova.name, PASSWORD)]],
      [
        'db version --no-such-flag=URL',
        ['db', 'version', `--no-such-flag=${url(nova.name, PASSWORD)}`],
      ],
      [
        'db version --placement-url URL?password=',
        [
          'db',
          'version',
          '--placement-url',
          `${url(placement.name)}?password=${encodeURIComponent(PASSWORD)}`,
        ],
      ],
    ] as const) {
      await run(label, [...args], {});
      await run(label, [...args], { debug: '*', json: true });
    }
  });

  // PostgreSQL on this machine trusts every local connection, so only MariaDB refuses.
  it.runIf(engine === 'mysql')('a wrong password is refused (exit 9) and not printed', async () => {
    const wrongFlag: Array<[string, string[], number]> = [
      [
        'fixtures generate',
        [
          'fixtures',
          'generate',
          '--release',
          'stein',
          '--target',
          url(nova.name, WRONG_PASSWORD),
          '--drop',
        ],
        ExitCode.AUTH_FAILED,
      ],
      [
        'migrate',
        [
          'migrate',
          '--source',
          url(nova.name, WRONG_PASSWORD),
          '--target',
          url(placement.name, WRONG_PASSWORD),
        ],
        ExitCode.AUTH_FAILED,
      ],
      [
        'migrate --apply',
        [
          'migrate',
          '--apply',
          '--source',
          url(nova.name, PASSWORD),
          '--target',
          url(placement.name, WRONG_PASSWORD),
        ],
        ExitCode.AUTH_FAILED,
      ],
      [
        'db sync',
        ['db', 'sync', '--placement-url', url(placement.name, WRONG_PASSWORD)],
        ExitCode.AUTH_FAILED,
      ],
      [
        'db version',
        ['db', 'version', '--placement-url', url(placement.name, WRONG_PASSWORD)],
        ExitCode.AUTH_FAILED,
      ],
      [
        'db stamp',
        ['db', 'stamp', 'head', '--placement-url', url(placement.name, WRONG_PASSWORD)],
        ExitCode.AUTH_FAILED,
      ],
      [
        'db online-data-migrations',
        ['db', 'online-data-migrations', '--placement-url', url(placement.name, WRONG_PASSWORD)],
        ExitCode.AUTH_FAILED,
      ],
      // oslo.upgradecheck: anything that stops the checks is 255.
      [
        'upgrade check',
        ['upgrade', 'check', '--placement-url', url(placement.name, WRONG_PASSWORD)],
        255,
      ],
      [
        'verify',
        [
          'verify',
          '--target',
          url(placement.name, PASSWORD),
          '--source',
          url(nova.name, WRONG_PASSWORD),
        ],
        ExitCode.AUTH_FAILED,
      ],
      [
        'api serve',
        ['api', 'serve', '--port', '0', '--placement-url', url(placement.name, WRONG_PASSWORD)],
        ExitCode.AUTH_FAILED,
      ],
    ];
    for (const [label, args, code] of wrongFlag) {
      for (const r of await runEachWay(`${label} with a wrong password`, args, {})) {
        expect(r.code, `${label}\n${r.stderr.slice(-2000)}`).toBe(code);
      }
    }
    // From a config file, from the environment (the password variables), and the rc variables.
    const conf = writeInput(
      'wrong-password.conf',
      `[placement_database]\nconnection = ${url(placement.name, WRONG_PASSWORD)}\n`,
    );
    for (const r of await runEachWay(
      'db version with a wrong password in --placement-config',
      ['db', 'version', '--placement-config', conf],
      {},
    )) {
      expect(r.code, r.stderr).toBe(ExitCode.AUTH_FAILED);
    }
    const env = {
      PLACEMENT_UPGRADE_PLACEMENT_URL: url(placement.name),
      PLACEMENT_UPGRADE_PLACEMENT_PASSWORD: WRONG_PASSWORD,
      PLACEMENT_UPGRADE_NOVA_URL: url(nova.name),
      PLACEMENT_UPGRADE_NOVA_PASSWORD: WRONG_PASSWORD,
    };
    for (const [label, args] of [
      ['db version', ['db', 'version']],
      ['migrate', ['migrate']],
      ['verify', ['verify']],
    ] as const) {
      for (const r of await runEachWay(
        `${label} with a wrong password from the environment`,
        [...args],
        env,
      )) {
        expect(r.code, r.stderr).toBe(ExitCode.AUTH_FAILED);
      }
    }
    const rc = { ...rcVariables(), NOVA_API_PASS: WRONG_PASSWORD, PLACEMENT_PASS: WRONG_PASSWORD };
    for (const r of await runEachWay(
      'migrate --rc - with wrong passwords',
      ['migrate', '--rc', '-', '--rc-engine', 'mysql'],
      rc,
    )) {
      expect(r.code, r.stderr).toBe(ExitCode.AUTH_FAILED);
    }
  });
});
