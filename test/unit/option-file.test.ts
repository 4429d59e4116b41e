/**
 * MySQL option files named by read_default_file= / read_default_group=, read
 * as PyMySQL reads them (configparser, with its quirks), their values filling
 * what the URL leaves out. The expected parses were checked against Python's
 * configparser with PyMySQL's Parser.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mysqlDialect } from '../../src/db/dialect/mysql.js';
import { parseOptionFile, withOptionFile } from '../../src/db/option-file.js';
import type { Socket } from 'node:net';
import { tlsAttempts, type TlsOptions } from '../../src/db/tls.js';
import { displayUrl, parseConnectionUrl, type ConnectionSpec } from '../../src/db/url.js';
import { BadUrlError, ConfigError, type PlacementUpgradeError } from '../../src/errors/errors.js';
import { clearSecrets, redact } from '../../src/errors/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'pu-option-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes an option file and returns its path. */
function optionFile(text: string): string {
  const file = join(dir, `my-${++n}.cnf`);
  writeFileSync(file, text);
  return file;
}

/** The connection a URL names once its option file is read, as openDatabase reads it. */
const resolve = (url: string): ConnectionSpec => withOptionFile(parseConnectionUrl(url, 'test'));

function failure(work: () => unknown): PlacementUpgradeError {
  try {
    work();
  } catch (err) {
    return err as PlacementUpgradeError;
  }
  throw new Error('accepted');
}

const groups = (text: string) =>
  Object.fromEntries(
    [...parseOptionFile(text, '/x.cnf')].map(([g, o]) => [g, Object.fromEntries(o)]),
  );

describe('parseOptionFile: configparser as PyMySQL uses it', () => {
  it('reads groups, key=value, key: value, bare keys and comment lines; keys lower-case with _ as -', () => {
    expect(
      groups(
        '# comment\n; comment\n[tripleo]\nbind_address = 172.16.2.10\nSSL-CA: /etc/ipa/ca.crt\nskip-ssl\n[client]\r\nuser=win\r\n',
      ),
    ).toEqual({
      tripleo: { 'bind-address': '172.16.2.10', 'ssl-ca': '/etc/ipa/ca.crt', 'skip-ssl': null },
      client: { user: 'win' },
    });
  });

  it('keeps what the MySQL client would not: inline # text, quotes (until read), "=" after the first', () => {
    expect(groups('[client]\nuser=a # not a comment\npassword="p#w"\nother = a=b\n')).toEqual({
      client: { user: 'a # not a comment', password: '"p#w"', other: 'a=b' },
    });
  });

  it('takes !include and !includedir inside a group as bare keys, not followed', () => {
    expect(groups('[client-server]\n!includedir /etc/my.cnf.d\n')).toEqual({
      'client-server': { '!includedir /etc/my.cnf.d': null },
    });
  });

  it('continues a value on an indented line, and group names are taken as written', () => {
    expect(groups('[client]\npassword=abc\n  def\n\nuser=x\n[ spaced ]\n')).toEqual({
      client: { password: 'abc\ndef', user: 'x' },
      ' spaced ': {},
    });
  });

  it.each([
    [
      '!includedir /etc/my.cnf.d\n[client]\nuser=x\n',
      /line 1 is an include directive before any \[group\]/,
    ],
    ['user=x\n[client]\n', /line 1 comes before any \[group\]/],
    ['[client]\nuser=a\n[client]\nuser=b\n', /line 3 starts the group \[client\] a second time/],
    ['[client]\nssl_ca=/a\nssl-ca=/b\n', /line 3 gives "ssl-ca" a second time in \[client\]/],
    ['[client]\n=x\n', /line 2 has no key/],
    ['[client]\nflag\n  more\n', /line 3 is indented/],
  ])('refuses what configparser refuses (and PyMySQL with it): %j', (text, message) => {
    const err = failure(() => parseOptionFile(text, '/etc/x.cnf'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('/etc/x.cnf');
    expect(err.message).toMatch(message);
  });
});

describe('read_default_file in a MySQL URL', () => {
  beforeEach(() => clearSecrets());

  it('is read when connecting: parsing only notes the file and group', () => {
    const spec = parseConnectionUrl(
      'mysql+pymysql:///placement?read_default_file=/etc/my.cnf.d/tripleo.cnf&read_default_group=tripleo',
      'test',
    );
    expect(spec.optionFile).toEqual({ path: '/etc/my.cnf.d/tripleo.cnf', group: 'tripleo' });
    expect(spec.host).toBeUndefined();
    // PyMySQL's defaults: /etc/my.cnf for a group alone, [client] for a file alone.
    expect(parseConnectionUrl('mysql://u@h/d?read_default_group=g', 't').optionFile).toEqual({
      path: '/etc/my.cnf',
      group: 'g',
    });
    expect(parseConnectionUrl('mysql://u@h/d?read_default_file=/f', 't').optionFile).toEqual({
      path: '/f',
      group: 'client',
    });
  });

  it('refuses an empty read_default_file= or read_default_group=, and on PostgreSQL', () => {
    for (const q of ['read_default_file=', 'read_default_file=/f&read_default_group=']) {
      const err = failure(() => parseConnectionUrl(`mysql://u@h/d?${q}`, 'test'));
      expect(err, q).toBeInstanceOf(BadUrlError);
      expect(err.message).toMatch(/has an empty read_default_(file|group)=/);
    }
    expect(
      failure(() => parseConnectionUrl('postgresql://u@h/d?read_default_file=/f', 'test')).message,
    ).toContain('"read_default_file"');
  });

  it('fills what the URL does not give from the group, as TripleO writes it', () => {
    const file = optionFile(
      '[client]\nuser=other\n[tripleo]\nuser=placement\npassword="s3cr#t"\nhost=db.internal\nport=3307\nbind-address=127.0.0.1\ndefault-character-set=utf8\n',
    );
    const spec = resolve(
      `mysql+pymysql:///placement?read_default_file=${file}&read_default_group=tripleo`,
    );
    expect(spec).toMatchObject({
      user: 'placement',
      password: 's3cr#t',
      host: 'db.internal',
      port: 3307,
      database: 'placement',
      bindAddress: '127.0.0.1',
    });
    expect(spec.optionFile).toBeUndefined();
    expect(spec.tls).toBeUndefined();
    // Read once: resolving again (migrate reopens a connection's spec) changes nothing.
    expect(withOptionFile(spec)).toBe(spec);
  });

  it('lets the URL win whatever it gives, as PyMySQL does (an empty password is not given)', () => {
    const file = optionFile(
      '[client]\nuser=fileuser\npassword=filepw\nhost=filehost\nport=1\ndatabase=filedb\n',
    );
    expect(resolve(`mysql://u:urlpw@urlhost:3306/urldb?read_default_file=${file}`)).toMatchObject({
      user: 'u',
      password: 'urlpw',
      host: 'urlhost',
      port: 3306,
      database: 'urldb',
    });
    expect(resolve(`mysql://u:@/?read_default_file=${file}`)).toMatchObject({
      user: 'u',
      password: 'filepw',
      host: 'filehost',
      port: 1,
      database: 'filedb',
    });
  });

  it("takes [DEFAULT] beneath the group, which an empty or bare key hides, and uses the file's socket", () => {
    const file = optionFile(
      '[DEFAULT]\nuser=defaultuser\npassword=defaultpw\ndatabase=defaultdb\n[client]\npassword=\ndatabase\nsocket=/run/mysqld/mysqld.sock\n',
    );
    const spec = resolve(`mysql://urlhost/d?read_default_file=${file}&read_default_group=client`);
    expect(spec).toMatchObject({ user: 'defaultuser', socketPath: '/run/mysqld/mysqld.sock' });
    expect(spec.password).toBeUndefined();
    expect(
      resolve(`mysql://urlhost/?read_default_file=${file}&read_default_group=DEFAULT`),
    ).toMatchObject({ database: 'defaultdb', password: 'defaultpw' });
    expect(failure(() => resolve(`mysql://urlhost/?read_default_file=${file}`)).message).toMatch(
      /names no database/,
    );
    // As PyMySQL: a socket (from anywhere) is used rather than the host.
    const config = mysqlDialect.knexConfig(resolve(`mysql://urlhost/d?read_default_file=${file}`), {
      max: 1,
      mustExist: false,
      connectTimeoutSeconds: 1,
      causalReads: true,
    });
    expect(config).toMatchObject({
      connection: { socketPath: '/run/mysqld/mysqld.sock', host: undefined },
    });
  });

  it('connects from bind-address through a socket of its own, and refuses one that is not an address', () => {
    const file = optionFile('[client]\nhost=127.0.0.1\nbind-address=127.0.0.2\n');
    const spec = resolve(`mysql:///d?read_default_file=${file}`);
    const config = mysqlDialect.knexConfig(spec, {
      max: 1,
      mustExist: false,
      connectTimeoutSeconds: 1,
      causalReads: true,
    });
    expect(typeof (config.connection as { stream?: unknown }).stream).toBe('function');
    // mysql2's own socket otherwise, but for a verified TLS connection to an IP address (named for Node).
    const pool = { max: 1, mustExist: false, connectTimeoutSeconds: 1, causalReads: true };
    const stream = (url: string, tls: TlsOptions | null) =>
      (
        mysqlDialect.knexConfig(parseConnectionUrl(url, 't'), pool, tls).connection as {
          stream?: () => Socket;
        }
      ).stream;
    expect(stream('mysql://u@127.0.0.1/d', null)).toBeUndefined();
    expect(stream('mysql://u@db.example.org/d', { verify: 'full' })).toBeUndefined();
    const factory = stream('mysql://u@127.0.0.1:1/d', { verify: 'full' });
    const socket = factory!();
    socket.on('error', () => undefined);
    expect((socket as unknown as { _host: string })._host).toBe('127.0.0.1');
    socket.destroy();
    const named = optionFile('[client]\nbind-address=myhost.example\n');
    const err = failure(() => resolve(`mysql:///d?read_default_file=${named}`));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/bind-address=myhost\.example, which is not an IP address/);
  });

  it('registers the password (quoted or not) for redaction the moment it is read', () => {
    const file = optionFile("[client]\npassword='Fi1e-Pa55'\n");
    resolve(`mysql://u@h/d?read_default_file=${file}`);
    expect(redact("login failed for 'Fi1e-Pa55'")).not.toContain('Fi1e-Pa55');
  });

  it('shows the connection used, the password masked', () => {
    const file = optionFile('[tripleo]\nuser=placement\npassword=hidden\nhost=10.0.0.5\n');
    const spec = resolve(
      `mysql+pymysql:///placement?read_default_file=${file}&read_default_group=tripleo`,
    );
    expect(displayUrl(spec)).toBe(
      `mysql+pymysql://placement:***@10.0.0.5/placement?read_default_file=${file}&read_default_group=tripleo`,
    );
  });

  it('a missing or unreadable file, or a missing group, is a configuration error naming both', () => {
    const missing = join(dir, 'missing.cnf');
    let err = failure(() =>
      resolve(`mysql://u@h/d?read_default_file=${missing}&read_default_group=tripleo`),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(missing);
    expect(err.message).toMatch(/which does not exist; it was to give the group \[tripleo\]/);

    const file = optionFile('[client]\nuser=x\n[Tripleo]\n');
    err = failure(() =>
      resolve(`mysql://u@h/d?read_default_file=${file}&read_default_group=tripleo`),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/has no group \[tripleo\] \(it has \[client\], \[Tripleo\]\)/);

    if (process.getuid?.() !== 0) {
      const locked = optionFile('[client]\n');
      chmodSync(locked, 0o000);
      err = failure(() => resolve(`mysql://u@h/d?read_default_file=${locked}`));
      expect(err.message).toMatch(/permission denied/);
    }
  });

  it('refuses a port that is not one, and names no database nowhere', () => {
    const file = optionFile('[client]\nport=33o6\n');
    expect(failure(() => resolve(`mysql://u@h/d?read_default_file=${file}`)).message).toMatch(
      /\[client\] of .* has port=33o6, which is not a number/,
    );
    const empty = optionFile('[client]\nuser=x\n');
    const err = failure(() => resolve(`mysql://u@h/?read_default_file=${empty}`));
    expect(err).toBeInstanceOf(BadUrlError);
    expect(err.message).toMatch(/names no database .*, nor does its option file group/);
  });
});

describe('TLS from an option file: its ssl-* mean what the URL ssl_* mean', () => {
  const ca = join(dir, 'ca.pem');

  it.each([
    // ssl-ca alone verifies the chain and the host name, as ssl_ca= does.
    ['', `ssl-ca=${ca}`, { mode: 'require', verify: 'full', ca: { param: 'ssl-ca', path: ca } }],
    ['ssl_check_hostname=false', `ssl-ca=${ca}`, { mode: 'require', verify: 'chain' }],
    ['ssl_mode=PREFERRED', `ssl-ca=${ca}`, { mode: 'prefer', verify: 'chain' }],
    [
      '',
      'ssl-cipher=ECDHE-RSA-AES256-GCM-SHA384',
      { verify: 'none', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' },
    ],
    ['', 'ssl-capath=/etc/ssl/certs', { ca: { param: 'ssl-capath', directory: true } }],
    // The URL's own wins; the file fills the rest.
    [
      'ssl_ca=/url-ca.pem',
      `ssl-ca=${ca}\nssl-cert=/c.pem\nssl-key=/k.pem`,
      {
        ca: { param: 'ssl_ca', path: '/url-ca.pem' },
        cert: { param: 'ssl-cert' },
        key: { param: 'ssl-key' },
      },
    ],
  ])('URL %j with %j', (query, lines, expected) => {
    const file = optionFile(`[client]\n${lines}\n`);
    const spec = resolve(`mysql://u@db/d?read_default_file=${file}${query ? `&${query}` : ''}`);
    expect(spec.tls).toMatchObject(expected);
  });

  it('keeps TLS off when the URL turns it off, as PyMySQL ssl_disabled does', () => {
    const file = optionFile(`[client]\nssl-ca=${ca}\nssl-password=whatever\n`);
    for (const q of ['ssl_disabled=true', 'ssl_mode=DISABLED', 'ssl=false']) {
      expect(resolve(`mysql://u@db/d?read_default_file=${file}&${q}`).tls, q).toEqual({
        mode: 'disable',
        verify: 'none',
      });
    }
  });

  it('refuses two CAs across URL and file, and an encrypted key (ssl-password, kept secret)', () => {
    const file = optionFile(`[client]\nssl-ca=${ca}\n`);
    const err = failure(() =>
      resolve(`mysql://u@db/d?read_default_file=${file}&ssl_capath=/certs`),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/both ssl-ca \(\[client\] of .*\) and ssl_capath \(the URL\)/);
    const encrypted = optionFile('[client]\nssl-key=/k.pem\nssl-password=Key-Pa55\n');
    const refused = failure(() => resolve(`mysql://u@db/d?read_default_file=${encrypted}`));
    expect(refused.message).toMatch(/has ssl-password/);
    expect(redact('Key-Pa55')).toBe('***');
  });

  it('names the option file when a file it names is missing', () => {
    const file = optionFile(`[tripleo]\nssl-ca=${join(dir, 'absent.pem')}\n`);
    const spec = resolve(`mysql://u@db/d?read_default_file=${file}&read_default_group=tripleo`);
    const err = failure(() => tlsAttempts(spec.tls, spec.origin));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`in ssl-ca ([tripleo] of ${file}), which does not exist`);
  });
});
