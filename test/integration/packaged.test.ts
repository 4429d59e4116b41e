/**
 * The package works where it is installed: packed, installed into an empty
 * directory, the README's first command runs from there as written.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { installPacked, readmeFirstCommand, type Installed } from '../helpers/packaged.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(command: string, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', command],
      // A user's shell: no npm_* variables of the test runner, no registry needed for npx.
      {
        cwd,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '/tmp',
          NO_COLOR: '1',
          npm_config_offline: 'true',
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let installed: Installed;

beforeAll(async () => {
  installed = await installPacked();
}, 300_000);

afterAll(() => installed?.remove());

describe('installed from its npm tarball into an empty directory', () => {
  it("the README's first command is one npx command that needs no checkout", () => {
    const command = readmeFirstCommand();
    expect(command).toMatch(/^npx placement-upgrade migrate /);
    expect(command).not.toMatch(/fixtures\//);
  });

  it('the README\'s first command migrates the bundled sample, and a rerun is "already migrated"', async () => {
    const command = readmeFirstCommand();
    const first = await sh(command, installed.dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/verified 11 table\(s\): counts and checksums equal/);
    expect(existsSync(join(installed.dir, 'placement.sqlite'))).toBe(true);
    const again = await sh(command, installed.dir);
    expect(again.code, again.stdout + again.stderr).toBe(ExitCode.ALREADY_MIGRATED);
  });

  it('a SQLite source path that does not exist is "database missing" (10), naming the path', async () => {
    const r = await sh(
      'npx placement-upgrade migrate --source sqlite:///fixtures/sample/nova_api.sqlite --target sqlite:///other.sqlite',
      installed.dir,
    );
    expect(r.code, r.stderr).toBe(ExitCode.DATABASE_MISSING);
    expect(r.stderr).toContain(
      `${join(installed.dir, 'fixtures', 'sample', 'nova_api.sqlite')} does not exist`,
    );
    expect(r.stderr).toMatch(/--source sample/);
    expect(r.stderr).not.toMatch(/without nova/);
  });
});
