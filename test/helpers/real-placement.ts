/**
 * Drives the real placement (Debian's python3-placement 8.0.0, Zed:
 * placement-manage, placement-status and its alembic migrations) against a
 * test database, to prove placement-upgrade behaves like it and interoperates
 * with it. CI installs it (scripts/install-system-deps.sh); elsewhere the
 * comparisons are skipped, saying so.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliResult } from './cli.js';

const MANAGE = '/usr/bin/placement-manage';
const STATUS = '/usr/bin/placement-status';
const PYTHON = '/usr/bin/python3';

/** True when tests must not skip for want of real placement (CI). */
export function realPlacementRequired(): boolean {
  return process.env['CI'] === 'true' || process.env['PU_REQUIRE_SERVERS'] === '1';
}

/** True when Debian's placement is installed here. */
export function realPlacementAvailable(): boolean {
  return (
    existsSync(MANAGE) &&
    existsSync(STATUS) &&
    existsSync('/usr/lib/python3/dist-packages/placement')
  );
}

/** Whether the real tools are here; in CI their absence is an error, not a skip. */
export function hasRealPlacement(): boolean {
  const present = realPlacementAvailable();
  if (!present && realPlacementRequired()) {
    throw new Error(
      'placement-manage/placement-status are not installed: run scripts/install-system-deps.sh',
    );
  }
  return present;
}

/** SQLAlchemy's spelling of a test database URL (with the drivers placement has). */
export function sqlalchemyUrl(url: string): string {
  return url
    .replace(/^mysql(\+\w+)?:/, 'mysql+pymysql:')
    .replace(/^postgres(ql)?(\+\w+)?:/, 'postgresql+psycopg2:');
}

/**
 * Writes a placement.conf for `url` in a fresh directory (extra sections as
 * given) and returns its path; the directory is where oslo looks for policy files.
 */
export function writePlacementConf(
  url: string,
  extra: Record<string, Record<string, string>> = {},
  dir: string = mkdtempSync(join(tmpdir(), 'pu-conf-')),
): string {
  const sections = { placement_database: { connection: sqlalchemyUrl(url) }, ...extra };
  const text = Object.entries(sections)
    .map(
      ([name, options]) =>
        `[${name}]\n${Object.entries(options)
          .map(([k, v]) => `${k} = ${v}`)
          .join('\n')}\n`,
    )
    .join('\n');
  const file = join(dir, 'placement.conf');
  writeFileSync(file, text);
  return file;
}

function run(bin: string, args: string[], home?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      {
        // HOME decides which ~/.placement and ~/ oslo searches for policy files.
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: home ?? mkdtempSync(join(tmpdir(), 'pu-home-')),
          ...(process.env['PYTHONPATH'] ? { PYTHONPATH: process.env['PYTHONPATH'] } : {}),
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `placement-manage --config-file CONF ...args`. */
export function placementManage(conf: string, args: string[], home?: string): Promise<CliResult> {
  return run(MANAGE, ['--config-file', conf, ...args], home);
}

/** `placement-status --config-file CONF ...args`. */
export function placementStatus(conf: string, args: string[], home?: string): Promise<CliResult> {
  return run(STATUS, ['--config-file', conf, ...args], home);
}

/** `placement-manage ...args` against the database at `url` (a throw-away config). */
export async function placementManageOn(url: string, args: string[]): Promise<CliResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pu-conf-'));
  try {
    return await placementManage(writePlacementConf(url, {}, dir), args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Upgrades with placement's own alembic migrations to `revision` (placement-manage
 * db sync always goes to head, so this calls placement's migration module directly).
 */
export async function placementUpgradeTo(url: string, revision: string): Promise<CliResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pu-conf-'));
  const script = [
    'import sys',
    'from oslo_config import cfg',
    'from placement import conf, db_api',
    'from placement.db.sqlalchemy import migration',
    'c = cfg.ConfigOpts()',
    'conf.register_opts(c)',
    "c(['--config-file', sys.argv[1]], project='placement')",
    'db_api.configure(c)',
    'migration.upgrade(sys.argv[2])',
  ].join('\n');
  try {
    return await run(PYTHON, ['-c', script, writePlacementConf(url, {}, dir), revision]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What oslo.upgradecheck itself prints for these results (table, or --json
 * when `json`), and the exit code it returns: the layout oracle for
 * `upgrade check`. Python and oslo.upgradecheck come with the real placement.
 */
export function osloUpgradeCheckOutput(
  checks: { check: string; result: number; details: string | null }[],
  json = false,
): Promise<CliResult> {
  const script = `
import json, sys, types
from oslo_upgradecheck import upgradecheck
data = json.load(sys.stdin)
class Checks(upgradecheck.UpgradeCommands):
    _upgrade_checks = tuple(
        (c['check'], (lambda self, c=c: upgradecheck.Result(upgradecheck.Code(c['result']), c['details'])))
        for c in data)
if ${json ? 'True' : 'False'}:
    upgradecheck.CONF = types.SimpleNamespace(command=types.SimpleNamespace(json=True))
sys.exit(int(Checks().check()))
`;
  return new Promise((resolve) => {
    const child = execFile(PYTHON, ['-c', script], (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(JSON.stringify(checks));
  });
}
