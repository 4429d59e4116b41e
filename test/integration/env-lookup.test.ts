/**
 * Every command reads connections and placement.conf's options the way
 * migrate does, through BaseCommand: PLACEMENT_UPGRADE_PLACEMENT_CONFIG and
 * PLACEMENT_UPGRADE_NOVA_CONFIG stand for --placement-config and
 * --nova-config. verify read the incomplete consumer's ids only from the flag
 * (and so found "differences" in a correct migration), and upgrade check left
 * out Source Parity when nova_api was named by PLACEMENT_UPGRADE_NOVA_CONFIG.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { ROOT, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'pu-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const placementUrl = `sqlite:///${join(dir, 'placement.sqlite')}`;
const placementConf = join(dir, 'placement.conf');
const novaConf = join(dir, 'nova.conf');
const PLACEMENT_CONFIG = { PLACEMENT_UPGRADE_PLACEMENT_CONFIG: placementConf };
const NOVA_CONFIG = { PLACEMENT_UPGRADE_NOVA_CONFIG: novaConf };

beforeAll(async () => {
  writeFileSync(
    placementConf,
    `[placement_database]\nconnection = ${placementUrl}\n\n[placement]\nincomplete_consumer_project_id = env-project\nincomplete_consumer_user_id = env-user\n`,
  );
  writeFileSync(
    novaConf,
    `[api_database]\nconnection = sqlite:///${join(ROOT, 'fixtures', 'sample', 'nova_api.sqlite')}\n`,
  );
  // migrate from both variables alone: incomplete consumers get env-project / env-user.
  const r = await runCli(['migrate', '--apply'], { env: { ...PLACEMENT_CONFIG, ...NOVA_CONFIG } });
  expect(r.code, r.stdout + r.stderr).toBe(ExitCode.OK);
});

describe('verify', () => {
  it('PLACEMENT_UPGRADE_PLACEMENT_CONFIG: the connection and the incomplete consumer ids', async () => {
    const r = await runCli(
      ['verify', '--source', `sqlite:///${join(ROOT, 'fixtures', 'sample', 'nova_api.sqlite')}`],
      {
        env: PLACEMENT_CONFIG,
      },
    );
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.OK);
    expect(r.stdout).not.toContain('expected 00000000-0000-0000-0000-000000000000');
  });

  it('PLACEMENT_UPGRADE_NOVA_CONFIG: the source', async () => {
    const r = await runCli(
      [
        'verify',
        '--target',
        placementUrl,
        '--incomplete-consumer-project-id',
        'env-project',
        '--incomplete-consumer-user-id',
        'env-user',
      ],
      { env: NOVA_CONFIG },
    );
    expect(r.code, r.stdout + r.stderr).toBe(ExitCode.OK);
    expect(r.stderr).toContain('against sqlite:///');
  });
});

describe('upgrade check', () => {
  it('PLACEMENT_UPGRADE_PLACEMENT_CONFIG: the connection', async () => {
    const r = await runCli(['upgrade', 'check', '--json'], { env: PLACEMENT_CONFIG });
    const report = JSON.parse(r.stdout) as { checks: { check: string }[] };
    expect(report.checks.map((c) => c.check)).toContain('Database Revision');
    expect(report.checks.map((c) => c.check)).not.toContain('Source Parity');
  });

  it('PLACEMENT_UPGRADE_NOVA_CONFIG: the source, for Source Parity', async () => {
    const r = await runCli(['upgrade', 'check', '--placement-url', placementUrl, '--json'], {
      env: NOVA_CONFIG,
    });
    const report = JSON.parse(r.stdout) as { checks: { check: string; result: number }[] };
    expect(report.checks.find((c) => c.check === 'Source Parity')?.result).toBe(0);
  });
});
