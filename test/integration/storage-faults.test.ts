/**
 * Faults of the environment, not of placement-upgrade: a full disk, a
 * database file deleted or a database dropped under a running migrate. Each
 * is exit 26 with one paragraph saying what happened and that what was
 * committed stays, never exit 70 "a bug" with a stack trace.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { migrateArgs, parseJson, runCli, runWatching } from '../helpers/cli.js';
import { freshDatabases, testEngines } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';
import { ADMIN_URLS } from '../helpers/servers.js';
import { openDatabase } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';

const fresh = freshDatabases();
const engines = testEngines();

/** A small filesystem of its own (tmpfs), so that "disk full" is real and harms nothing else. */
function smallFilesystem(sizeKiB: number): {
  dir: string;
  resize(kib: number): void;
  done(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'pu-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir]);
  return {
    dir,
    resize: (kib) => execFileSync('mount', ['-o', `remount,size=${kib}k`, dir]),
    done: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function expectEnvironmentFault(run: { code: number | null; stderr: string }, what: RegExp) {
  expect(run.code, run.stderr).toBe(ExitCode.ENVIRONMENT);
  expect(run.stderr).toMatch(what);
  expect(run.stderr).toMatch(/What was committed before stays committed/);
  expect(run.stderr).not.toMatch(/bug in placement-upgrade|\n\s+at /);
}

describe('a SQLite target whose disk fills up', () => {
  let fs: ReturnType<typeof smallFilesystem>;
  beforeAll(() => void (fs = smallFilesystem(256)));
  afterAll(() => fs?.done());

  it('exits 26 saying the disk is full; with room again, the rerun resumes', async () => {
    const source = await novaApiSource(fresh, 'sqlite', 'full_src', {
      release: 'queens',
      providers: 30,
      consumers: 1500,
      seed: 21,
    });
    const target = `sqlite:///${join(fs.dir, 'placement.sqlite')}`;
    const args = migrateArgs(source, target, '--apply');
    const full = await runCli(args);
    expectEnvironmentFault(full, /disk \(or filesystem\) holding the database file is full/);
    const json = await runCli([...args, '--json']);
    expect(parseJson<{ error: { code: string } }>(json).error.code).toBe('storage_fault');

    fs.resize(64 * 1024);
    const resumed = await runCli(args);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
  });
});

describe('a SQLite target in a read-only directory', () => {
  let fs: ReturnType<typeof smallFilesystem>;
  beforeAll(() => {
    fs = smallFilesystem(256);
    execFileSync('mount', ['-o', 'remount,ro', fs.dir]);
  });
  afterAll(() => fs?.done());

  it('is refused before anything else, saying the directory is not writable (11)', async () => {
    const target = `sqlite:///${join(fs.dir, 'placement.sqlite')}`;
    const run = await runCli(
      migrateArgs('sqlite:///fixtures/sample/nova_api.sqlite', target, '--apply'),
    );
    expect(run.code, run.stderr).toBe(ExitCode.PERMISSION_DENIED);
    expect(run.stderr).toMatch(/its directory is not writable \(a read-only filesystem\)/);
    expect(run.stderr).not.toMatch(/does not exist|bug in placement-upgrade/);
  });
});

describe('a SQLite target file deleted while migrate writes it', () => {
  it('exits 26 saying the file was deleted', async () => {
    const source = await novaApiSource(fresh, 'sqlite', 'gone_src', {
      release: 'queens',
      providers: 30,
      consumers: 1500,
      seed: 21,
    });
    const dir = mkdtempSync(join(tmpdir(), 'pu-gone-'));
    const file = join(dir, 'placement.sqlite');
    try {
      const run = await runWatching(
        migrateArgs(source, `sqlite:///${file}`, '--apply', '--batch-size', '10'),
        (line) => line.startsWith('copy allocations'),
        () => unlinkSync(file),
      );
      const log = run.lines.join('\n');
      expect(run.actError, log).toBeNull();
      expect(run.code, log).toBe(ExitCode.ENVIRONMENT);
      expect(log).toMatch(/deleted or moved while in use|can no longer be opened/);
      expect(log).not.toMatch(/bug in placement-upgrade/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeEach(engines.filter((e) => e !== 'sqlite'))(
  'a %s target database dropped while migrate writes it',
  (engine) => {
    it('exits 26 saying what was dropped', async () => {
      const source = await novaApiSource(fresh, engine, 'drop_src', {
        release: 'train',
        providers: 20,
        consumers: 1500,
        seed: 5,
      });
      const target = await fresh(engine, 'drop_dst');
      const admin = await openDatabase(parseConnectionUrl(ADMIN_URLS[engine], 'test admin'), {
        max: 1,
      });
      try {
        const run = await runWatching(
          migrateArgs(source, target, '--apply', '--batch-size', '10'),
          (line) => line.startsWith('copy allocations'),
          async () => {
            await admin.knex.raw(
              engine === 'mysql'
                ? `DROP DATABASE \`${target.name}\``
                : `DROP DATABASE "${target.name}" WITH (FORCE)`,
            );
          },
        );
        const log = run.lines.join('\n');
        expect(run.actError, log).toBeNull();
        // PostgreSQL ends the sessions of a database it drops: a writer in the
        // middle of a statement lost its connection (5); one that opened a new
        // connection first found the database gone (26). Which writer notices
        // first is a race between them; both say what happened.
        if (engine === 'mysql' || run.code === ExitCode.ENVIRONMENT) {
          expect(run.code, log).toBe(ExitCode.ENVIRONMENT);
          expect(log).toMatch(/dropped while in use/);
        } else expect(run.code, log).toBe(ExitCode.CANNOT_CONNECT);
        expect(log).not.toMatch(/bug in placement-upgrade/);
      } finally {
        await admin.close();
      }
    });
  },
);
