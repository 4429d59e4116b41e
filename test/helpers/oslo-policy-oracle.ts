/**
 * The real oslo.policy (with placement's defaults and its noauth2
 * credentials) as an oracle: one python3 run answers a whole batch of
 * cases (see oslo-policy-oracle.py for their shape).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';
import { realPlacementRequired } from './real-placement.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(ROOT, 'test', 'helpers', 'oslo-policy-oracle.py');

export type OracleCase =
  | { kind: 'parse'; rule: unknown }
  | {
      kind: 'authorize';
      config_file: string;
      headers: Record<string, string>;
      action: string;
      target: Record<string, unknown> | null;
    };

export type OracleAnswer =
  { str: string; logged: boolean; check: boolean } | { allowed: boolean } | { error: string };

/** True when python3 can import oslo.policy and placement here; in CI their absence is an error. */
export function osloPolicyAvailable(): boolean {
  const present =
    existsSync(PYTHON) &&
    existsSync('/usr/lib/python3/dist-packages/oslo_policy') &&
    existsSync('/usr/lib/python3/dist-packages/placement');
  if (!present && realPlacementRequired()) {
    throw new Error(
      'oslo.policy and placement are not installed: run scripts/install-system-deps.sh',
    );
  }
  return present;
}

/** Asks oslo.policy every case at once. */
export function askOsloPolicy(cases: OracleCase[]): OracleAnswer[] {
  const run = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify({ cases }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { PATH: '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root' },
  });
  if (run.status !== 0) {
    throw new Error(`the oslo.policy oracle failed (${run.status}):\n${run.stderr}`);
  }
  const answers = JSON.parse(run.stdout) as OracleAnswer[];
  if (answers.length !== cases.length) {
    throw new Error(`the oracle answered ${answers.length} of ${cases.length} cases`);
  }
  return answers;
}
