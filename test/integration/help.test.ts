/**
 * Every command's --help, as an operator reads it at 80 columns: the exit
 * codes it lists are the ones the command declares (and so can end with), the
 * description is filled as paragraphs (no sentence broken where the source
 * line ended), and the usage line is well formed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlacementUpgradeError, UsageError } from '../../src/errors/errors.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import type { BaseCommand } from '../../src/cli/base-command.js';
import { ROOT, runCli } from '../helpers/cli.js';

const WIDTH = 80;
const COMMANDS_DIR = join(ROOT, 'src', 'commands');

function commandFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? commandFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const COMMANDS = commandFiles(COMMANDS_DIR).map((file) => ({
  file,
  id: relative(COMMANDS_DIR, file).replace(/\.ts$/, '').split('/').join(' '),
}));

/** The lines of one section of oclif's help (between its heading and the next). */
function section(help: string, heading: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(heading);
  if (start === -1) return [];
  const end = lines.findIndex((l, i) => i > start && /^[A-Z][A-Z ]+$/.test(l));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

const helps = new Map<string, string>();
type CommandClass = typeof BaseCommand & { prototype: { exitCodeFor(e: unknown): number } };
const classes = new Map<string, CommandClass>();

beforeAll(async () => {
  await Promise.all(
    COMMANDS.map(async ({ id, file }) => {
      const r = await runCli([...id.split(' '), '--help'], {
        env: { OCLIF_COLUMNS: String(WIDTH) },
      });
      expect(r.code, `${id} --help: ${r.stderr}`).toBe(0);
      helps.set(id, r.stdout);
      classes.set(id, ((await import(file)) as { default: CommandClass }).default);
    }),
  );
});

describe.each(COMMANDS.map((c) => c.id))('%s --help', (id) => {
  it('lists exactly the exit codes the command declares', () => {
    const listed = section(helps.get(id)!, 'DESCRIPTION')
      .map((l) => /^ {2,}(\d{1,3}) {2}\S/.exec(l)?.[1])
      .filter((c): c is string => c !== undefined)
      .map(Number);
    const declared = [...new Set(classes.get(id)!.exitCodes)].sort((a, b) => a - b);
    expect(declared.length).toBeGreaterThan(0);
    expect([...new Set(listed)].sort((a, b) => a - b)).toEqual(declared);
  });

  it('declares the codes every command can end with: success, usage, a bug, a stop signal', () => {
    const cmd = classes.get(id)!;
    const codeFor = (err: PlacementUpgradeError) =>
      cmd.prototype.exitCodeFor.call(cmd.prototype, err);
    const expected = [
      ExitCode.OK,
      codeFor(new UsageError('an unknown flag')),
      codeFor(new PlacementUpgradeError('internal', ExitCode.INTERNAL, 'a bug')),
      ...(cmd.handlesStopSignals
        ? []
        : [ExitCode.INTERRUPTED_SIGINT, ExitCode.INTERRUPTED_SIGTERM]),
    ];
    for (const code of expected) expect(cmd.exitCodes, `exit ${code}`).toContain(code);
  });

  it('fills its description as paragraphs: no line ends where the next word would fit', () => {
    const lines = section(helps.get(id)!, 'DESCRIPTION');
    const indentOf = (l: string) => /^ */.exec(l)![0].length;
    const broken: string[] = [];
    for (let i = 0; i + 1 < lines.length; i++) {
      const line = lines[i]!;
      const next = lines[i + 1]!;
      if (line.trim() === '' || next.trim() === '') continue;
      // Prose continues at its indent (2); an item (deeper) hangs its continuation deeper still.
      const sameBlock =
        indentOf(line) === 2 ? indentOf(next) === 2 : indentOf(next) > indentOf(line);
      if (!sameBlock) continue;
      const word = next.trim().split(/\s+/)[0]!;
      if (line.trimEnd().length + 1 + word.length <= WIDTH) broken.push(`${line}⏎${next}`);
    }
    expect(broken).toEqual([]);
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(WIDTH);
  });

  it('has a well-formed usage line', () => {
    const usage = section(helps.get(id)!, 'USAGE').join(' ');
    expect(usage).toContain(`$ placement-upgrade ${id}`);
    expect(usage).not.toMatch(/ \]|\[ /);
  });
});

describe('commands that do not exist, or flags that do not go together', () => {
  it('an unknown command is a usage error (1), with --help too', async () => {
    for (const args of [
      ['frobnicate'],
      ['frobnicate', '--help'],
      ['db', 'frob', '--help', '--json'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(ExitCode.USAGE);
      expect(r.stdout + r.stderr).toContain('is not a placement-upgrade command');
    }
  });

  it('migrate --restart without --apply is a usage error', async () => {
    const r = await runCli(['migrate', '--restart']);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toContain('--restart');
  });
});
