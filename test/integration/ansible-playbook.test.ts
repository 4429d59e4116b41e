/**
 * The README's playbook (examples/ansible/migrate-placement.yml), run by
 * Debian's ansible-core over a local connection against MariaDB, with a
 * database user whose password has every character the rc format escapes:
 * the first run migrates (changed), the rerun is "already migrated" (ok,
 * not changed), a run the tool refuses fails with its reason in the task's
 * output — and the password appears nowhere in what Ansible prints, though
 * no task hides its output. Required in CI (scripts/install-system-deps.sh
 * installs ansible-core).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { ROOT } from '../helpers/cli.js';
import { freshDatabases, testEngines, type TestDatabase } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';
import { realPlacementRequired } from '../helpers/real-placement.js';
import { ADMIN_URLS } from '../helpers/servers.js';

const ANSIBLE = '/usr/bin/ansible-playbook';
const PLAYBOOK = join(ROOT, 'examples', 'ansible', 'migrate-placement.yml');
const available = existsSync(ANSIBLE);
if (!available && realPlacementRequired()) {
  throw new Error('ansible-core is required in CI: run scripts/install-system-deps.sh');
}
const runIt = available && testEngines().includes('mysql');

const fresh = freshDatabases();
const USER = `pu_ansible_${process.pid}`;
/** Every character the rc file escapes, and a shell's favourite. */
const PASSWORD = 'An$ible"pa\\ss`wd\'42!';

interface PlaybookTask {
  task: { name: string };
  hosts: Record<
    string,
    {
      changed?: boolean;
      failed?: boolean;
      rc?: number;
      stdout?: string;
      stderr?: string;
      msg?: string;
    }
  >;
}

interface PlaybookRun {
  code: number | null;
  output: string;
  tasks: Map<string, PlaybookTask['hosts'][string]>;
}

/** ansible-playbook with the test's JSON callback: every task's result, by name. */
function playbook(work: string, vars: Record<string, string>): Promise<PlaybookRun> {
  const varsFile = join(work, `vars-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(varsFile, JSON.stringify(vars), { mode: 0o600 });
  return new Promise((resolve) => {
    execFile(
      ANSIBLE,
      ['-i', 'localhost,', '-c', 'local', PLAYBOOK, '-e', `@${varsFile}`],
      {
        cwd: work,
        maxBuffer: 32 * 1024 * 1024,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: work,
          // ansible-core alone has no JSON stdout callback: the test brings its own.
          ANSIBLE_STDOUT_CALLBACK: 'pu_results',
          ANSIBLE_CALLBACK_PLUGINS: join(ROOT, 'test', 'helpers', 'ansible', 'callback_plugins'),
          ANSIBLE_LOCALHOST_WARNING: 'False',
          ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
          ANSIBLE_LOCAL_TEMP: join(work, '.ansible-local'),
          ANSIBLE_REMOTE_TEMP: join(work, '.ansible-remote'),
          ANSIBLE_NOCOLOR: '1',
        },
      },
      (err, stdout, stderr) => {
        const output = stdout + stderr;
        const tasks = new Map<string, PlaybookTask['hosts'][string]>();
        try {
          const doc = JSON.parse(stdout) as { plays: { tasks: PlaybookTask[] }[] };
          for (const t of doc.plays.flatMap((p) => p.tasks)) {
            tasks.set(t.task.name, t.hosts['localhost'] ?? {});
          }
        } catch {
          // Left empty: the assertions print the output.
        }
        resolve({
          code: err ? ((err as { code?: number }).code ?? null) : 0,
          output,
          tasks,
        });
      },
    );
  });
}

describe.runIf(runIt)('the README playbook under ansible-core (mysql)', () => {
  let work: string;
  let admin: Database;
  let source: TestDatabase;
  let other: TestDatabase;
  let target: TestDatabase;
  let rcFile: string;

  const vars = (src: TestDatabase) => ({
    placement_upgrade: `${process.execPath} ${join(ROOT, 'bin', 'run.js')}`,
    placement_upgrade_rc: rcFile,
    placement_release: 'zed',
    db_host: '127.0.0.1',
    nova_api_db: src.name,
    nova_api_db_user: USER,
    nova_api_db_password: PASSWORD,
    placement_db: target.name,
    placement_db_user: USER,
    placement_db_password: PASSWORD,
  });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'pu-ansible-'));
    mkdirSync(join(work, 'etc'));
    rcFile = join(work, 'etc', 'migrate.rc');
    source = await novaApiSource(fresh, 'mysql', 'ans_src', {
      release: 'rocky',
      providers: 8,
      consumers: 60,
      seed: 5,
    });
    other = await novaApiSource(fresh, 'mysql', 'ans_other', {
      release: 'rocky',
      providers: 4,
      consumers: 20,
      seed: 6,
    });
    target = await fresh('mysql', 'ans_dst');
    admin = await openDatabase(parseConnectionUrl(ADMIN_URLS.mysql, 'test admin'), { max: 1 });
    for (const host of ['%', 'localhost']) {
      await admin.knex.raw('CREATE USER ?@? IDENTIFIED BY ?', [USER, host, PASSWORD]);
      for (const db of [source.name, other.name, target.name]) {
        await admin.knex.raw(`GRANT ALL ON \`${db}\`.* TO ?@?`, [USER, host]);
      }
    }
  }, 120_000);

  afterAll(async () => {
    if (admin) {
      for (const host of ['%', 'localhost']) {
        await admin.knex.raw('DROP USER IF EXISTS ?@?', [USER, host]);
      }
      await admin.close();
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const MIGRATE = 'Migrate placement data out of nova_api';
  const WORKLOAD = 'Prove placement works the way nova uses it';

  it('migrates on the first run (changed), with the passwords in a 0600 file', async () => {
    const run = await playbook(work, vars(source));
    expect(run.code, run.output).toBe(0);
    const migrate = run.tasks.get(MIGRATE);
    expect(migrate?.rc, run.output).toBe(0);
    expect(migrate?.changed).toBe(true);
    expect(run.tasks.get('Say what migrate found')?.msg).toBe('migrated');
    // The last task: nova's workload on a scratch copy, every step passed.
    const workload = run.tasks.get(WORKLOAD);
    expect(workload?.rc, run.output).toBe(0);
    expect((JSON.parse(String(workload?.stdout)) as { ok: boolean }).ok).toBe(true);
    expect(statSync(rcFile).mode & 0o777).toBe(0o600);
    expect(run.output).not.toContain(PASSWORD);
    expect(run.output).not.toContain('An$ible');
  }, 180_000);

  it('is "already migrated" on the rerun: ok, not changed', async () => {
    const run = await playbook(work, vars(source));
    expect(run.code, run.output).toBe(0);
    const migrate = run.tasks.get(MIGRATE);
    expect(migrate?.rc, run.output).toBe(3);
    expect(migrate?.changed).toBe(false);
    expect(run.tasks.get(WORKLOAD)?.rc, run.output).toBe(0);
    expect(migrate?.failed ?? false).toBe(false);
    expect(run.output).not.toContain('An$ible');
  }, 180_000);

  it('fails a refused run with the reason visible, and still never shows the password', async () => {
    // Another cloud's nova_api into the migrated database: refused, nothing written.
    const run = await playbook(work, vars(other));
    expect(run.code, run.output).not.toBe(0);
    const migrate = run.tasks.get(MIGRATE);
    expect(migrate?.failed, run.output).toBe(true);
    expect(migrate?.rc).toBe(21);
    expect(run.tasks.has(WORKLOAD)).toBe(false);
    const shown = `${migrate?.stdout ?? ''}\n${migrate?.stderr ?? ''}`;
    expect(shown).not.toMatch(/censored/i);
    expect(shown).toMatch(
      /already holds placement data that differs from the source.*Nothing was written/,
    );
    expect(run.output).not.toContain('An$ible');
  }, 180_000);
});
