import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/config/connections.js';
import { parseOsloIni, readOsloConfigFiles } from '../../src/config/oslo-ini.js';
import { ConfigError } from '../../src/errors/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'pu-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('oslo INI', () => {
  it('keeps # and ; inside values (no inline comments in oslo)', () => {
    const c = parseOsloIni(
      '[placement_database]\nconnection = mysql://u:a#b;c@h/d\n# comment\n; comment\n',
      'x',
    );
    expect(c.get('placement_database')?.get('connection')).toBe('mysql://u:a#b;c@h/d');
  });

  it('accepts ":" separators, continuation lines and quotes', () => {
    const c = parseOsloIni('[a]\nx: 1\ny = first\n  second\nz = "quoted"\n', 'x');
    expect(c.get('a')?.get('x')).toBe('1');
    expect(c.get('a')?.get('y')).toBe('first\nsecond');
    expect(c.get('a')?.get('z')).toBe('quoted');
  });

  it('rejects an option before any section', () => {
    expect(() => parseOsloIni('connection = x\n', 'bad.conf')).toThrow(/bad\.conf, line 1/);
  });

  it('lets a later file override an earlier one, option by option', () => {
    const a = file(
      'a.conf',
      '[placement_database]\nconnection = sqlite:///a.db\nmax_pool_size = 5\n',
    );
    const b = file('b.conf', '[placement_database]\nconnection = sqlite:///b.db\n');
    const c = readOsloConfigFiles([a, b]);
    expect(c.get('placement_database')?.get('connection')).toBe('sqlite:///b.db');
    expect(c.get('placement_database')?.get('max_pool_size')).toBe('5');
  });
});

describe('resolveConnection precedence', () => {
  const conf = file(
    'placement.conf',
    '[placement_database]\nconnection = mysql+pymysql://placement:fromconf@conf-host/placement\n',
  );
  const nova = file(
    'nova.conf',
    '[api_database]\nconnection = mysql+pymysql://nova:novapw@nova-host/nova_api\n',
  );

  it('flag beats environment beats config', () => {
    const env = { PLACEMENT_UPGRADE_PLACEMENT_URL: 'mysql://p@env-host/placement' };
    expect(
      resolveConnection('placement', {
        url: 'mysql://p@flag-host/placement',
        configFiles: [conf],
        env,
      }).host,
    ).toBe('flag-host');
    expect(resolveConnection('placement', { configFiles: [conf], env }).host).toBe('env-host');
    expect(resolveConnection('placement', { configFiles: [conf], env: {} }).host).toBe('conf-host');
  });

  it('reads the config file from the environment when no flag names one', () => {
    expect(
      resolveConnection('nova', { env: { PLACEMENT_UPGRADE_NOVA_CONFIG: nova } }),
    ).toMatchObject({
      host: 'nova-host',
      database: 'nova_api',
      origin: expect.stringContaining('[api_database] connection'),
    });
  });

  it('the password variable replaces a password from config or environment, not one typed in the flag', () => {
    const env = { PLACEMENT_UPGRADE_PLACEMENT_PASSWORD: 'from-env' };
    expect(resolveConnection('placement', { configFiles: [conf], env }).password).toBe('from-env');
    expect(resolveConnection('placement', { url: 'mysql://p@h/placement', env }).password).toBe(
      'from-env',
    );
    expect(
      resolveConnection('placement', { url: 'mysql://p:typed@h/placement', env }).password,
    ).toBe('typed');
  });

  it('explains a missing connection', () => {
    expect(() => resolveConnection('placement', { env: {} })).toThrow(ConfigError);
    expect(() => resolveConnection('nova', { configFiles: [conf], env: {} })).toThrow(
      /\[api_database\] connection/,
    );
  });
});
