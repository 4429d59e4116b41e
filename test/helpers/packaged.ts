/**
 * The package as a user gets it: `npm pack` of this checkout (and of any
 * extra package directories, such as examples/), installed into an empty
 * temporary directory. Dependencies come from the npm cache, else the
 * registry; better-sqlite3's native addon is taken from this checkout's own
 * build of the same version (compiling it again would take minutes and test
 * node-gyp, not this package).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './cli.js';

const exec = promisify(execFile);

export interface Installed {
  /** The directory the packages were installed into (its node_modules/.bin holds placement-upgrade). */
  dir: string;
  /** Removes the directory. */
  remove(): void;
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec('npm', args, {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false' },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Packs `dir` (a package directory) into `into`, returning the tarball's path. */
export async function pack(dir: string, into: string): Promise<string> {
  const out = await npm(['pack', '--silent', '--pack-destination', into], dir);
  const name = out.trim().split('\n').pop()!;
  return join(into, name);
}

function version(packageDir: string): string | undefined {
  const file = join(packageDir, 'package.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Installs this package's tarball, and the tarballs of `extra` package directories, into a new empty directory. */
export async function installPacked(extra: readonly string[] = []): Promise<Installed> {
  const dir = mkdtempSync(join(tmpdir(), 'pu-installed-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const tarballs = [await pack(ROOT, dir)];
    for (const e of extra) tarballs.push(await pack(e, dir));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'pu-user', private: true }));
    await npm(
      ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs],
      dir,
    );
    const ours = join(ROOT, 'node_modules', 'better-sqlite3');
    const theirs = join(dir, 'node_modules', 'better-sqlite3');
    if (version(ours) === version(theirs) && existsSync(join(ours, 'build', 'Release'))) {
      cpSync(
        join(ours, 'build', 'Release', 'better_sqlite3.node'),
        join(theirs, 'build', 'Release', 'better_sqlite3.node'),
      );
    } else {
      await npm(['rebuild', 'better-sqlite3'], dir);
    }
    return { dir, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

/** The README's first shell block (the "Try it" command), as written. */
export function readmeFirstCommand(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no ```sh block');
  return block[1]!.trim();
}
