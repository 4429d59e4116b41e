/**
 * migrate on a terminal (a pseudo-terminal from script(1)): the plan and the
 * conditions are drawn before the copy starts, not only in the report at
 * the end.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { freshDatabases } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';

const fresh = freshDatabases();

/** Runs the CLI on a 150-column pseudo-terminal; resolves with all it drew. */
function onTerminal(args: string[]): Promise<{ code: number; screen: string }> {
  const quoted = [process.execPath, join(ROOT, 'bin', 'run.js'), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qfec', `stty cols 150 rows 60; ${quoted}`, '/dev/null'],
      { env: { ...process.env, NO_COLOR: '1', CI: '' }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, screen: stripVTControlCharacters(stdout) });
      },
    );
  });
}

it('the plan and the conditions are on the screen before the first table is copied', async () => {
  const source = await novaApiSource(fresh, 'sqlite', 'tty_src', {
    release: 'queens',
    providers: 30,
    consumers: 600,
    seed: 5,
  });
  const target = await fresh('sqlite', 'tty_dst');
  const run = await onTerminal([
    'migrate',
    '--apply',
    '--source',
    source.url,
    '--target',
    target.url,
  ]);
  expect(run.code, run.screen.slice(-3000)).toBe(0);
  const plan = run.screen.search(/plan\s+allocations\s+[\d,]+ source,\s+0 target: copy/);
  const condition = run.screen.search(
    /\[fixed-later\] \S+ resource providers without root_provider_id/,
  );
  const copying = run.screen.search(/copy\s+\w+\s+[\d,]+ \/ /);
  expect(plan, run.screen.slice(0, 3000)).toBeGreaterThan(-1);
  expect(condition).toBeGreaterThan(-1);
  expect(copying).toBeGreaterThan(-1);
  expect(plan).toBeLessThan(copying);
  expect(condition).toBeLessThan(copying);
});
