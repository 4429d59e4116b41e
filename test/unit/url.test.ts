import { beforeEach, describe, expect, it } from 'vitest';
import {
  displayUrl,
  maskUrlPasswords,
  parseConnectionUrl,
  withholdArgvPasswords,
} from '../../src/db/url.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { tlsAttempts } from '../../src/db/tls.js';
import {
  BadUrlError,
  ConfigError,
  UnsupportedDatabaseError,
  type PlacementUpgradeError,
} from '../../src/errors/errors.js';
import { clearSecrets, redact } from '../../src/errors/redact.js';

const parse = (url: string) => parseConnectionUrl(url, 'test');

/** The error parsing `url` throws. */
function refusal(url: string): PlacementUpgradeError {
  try {
    parse(url);
  } catch (err) {
    return err as PlacementUpgradeError;
  }
  throw new Error(`${url} was accepted`);
}

describe('parseConnectionUrl', () => {
  it('reads what nova.conf writes', () => {
    expect(
      parse('mysql+pymysql://nova:secret@db.example.org:3307/nova_api?charset=utf8'),
    ).toMatchObject({
      engine: 'mysql',
      driver: 'pymysql',
      user: 'nova',
      password: 'secret',
      host: 'db.example.org',
      port: 3307,
      database: 'nova_api',
      query: { charset: 'utf8' },
    });
  });

  it('decodes percent-encoded passwords, and keeps an unencoded @ in one', () => {
    expect(parse('mysql://placement:p%40ss%2Fw%3Ard@h/placement').password).toBe('p@ss/w:rd');
    expect(parse('mysql://placement:p@ss@h/placement')).toMatchObject({
      password: 'p@ss',
      host: 'h',
    });
  });

  it('reads IPv6 hosts in brackets', () => {
    expect(parse('postgresql://p:x@[fd00::10]:5433/placement')).toMatchObject({
      host: 'fd00::10',
      port: 5433,
    });
    expect(parse('postgresql://p@[::1]/placement')).toMatchObject({ host: '::1', port: undefined });
  });

  it('reads unix sockets for MySQL and PostgreSQL', () => {
    expect(
      parse('mysql+pymysql://p:x@/placement?unix_socket=/run/mysqld/mysqld.sock'),
    ).toMatchObject({
      socketPath: '/run/mysqld/mysqld.sock',
      host: undefined,
    });
    expect(parse('postgresql+psycopg2://p@/placement?host=/run/postgresql')).toMatchObject({
      socketPath: '/run/postgresql',
    });
  });

  it('defaults the host to localhost', () => {
    expect(parse('mysql://root@/placement').host).toBe('localhost');
  });

  it('reads SQLite paths: relative, absolute, memory', () => {
    expect(parse('sqlite:///placement.sqlite').database).toBe('placement.sqlite');
    expect(parse('sqlite:////var/lib/placement/p.sqlite').database).toBe(
      '/var/lib/placement/p.sqlite',
    );
    expect(parse('sqlite://').database).toBe(':memory:');
    expect(parse('sqlite+pysqlite:///a/b.db')).toMatchObject({
      engine: 'sqlite',
      database: 'a/b.db',
    });
  });

  it('accepts mariadb:// as MySQL', () => {
    expect(parse('mariadb+pymysql://u@h/d').engine).toBe('mysql');
  });

  it.each([
    ['mysql://u:p@h:99999/d', BadUrlError],
    ['mysql://u:p@h:abc/d', BadUrlError],
    ['mysql://u:p@h', BadUrlError],
    ['mysql://u:p@fd00::1/d', BadUrlError],
    ['mysql://u:p@[fd00::1/d', BadUrlError],
    ['mysql://u:%zz@h/d', BadUrlError],
    ['just-text', BadUrlError],
    ['sqlite://u@host/x.db', BadUrlError],
    ['oracle://u:p@h/d', UnsupportedDatabaseError],
    ['postgres://u:p@h/d', UnsupportedDatabaseError],
    ['mysql+nosuch://u:p@h/d', UnsupportedDatabaseError],
  ])('refuses %s', (url, type) => {
    expect(() => parse(url)).toThrow(type);
  });

  it('names the origin in its errors', () => {
    expect(() =>
      parseConnectionUrl('mysql://h', 'placement.conf [placement_database] connection'),
    ).toThrow(/placement\.conf \[placement_database\] connection/);
  });
});

describe('displayUrl and redaction', () => {
  // Secrets are process-wide by design; start each case from none.
  beforeEach(() => clearSecrets());

  it('masks the password', () => {
    const spec = parse('mysql+pymysql://nova:hunter2-xyz@db:3306/nova_api?charset=utf8');
    expect(displayUrl(spec)).toBe('mysql+pymysql://nova:***@db:3306/nova_api?charset=utf8');
  });

  it('keeps IPv6 brackets and SQLite paths', () => {
    expect(displayUrl(parse('postgresql://p:zz-secret@[::1]:5432/placement'))).toBe(
      'postgresql://p:***@[::1]:5432/placement',
    );
    expect(displayUrl(parse('sqlite:////tmp/p.sqlite'))).toBe('sqlite:////tmp/p.sqlite');
  });

  it('scrubs a parsed password from any later text, encoded or not', () => {
    parse('mysql://u:Tr1cky%23Secret@h/d');
    expect(redact('driver said Tr1cky#Secret and Tr1cky%23Secret')).toBe('driver said *** and ***');
  });

  it('scrubs URL credentials and password= even when never registered', () => {
    expect(redact('mysql://a:unregistered-pw@h/d')).toBe('mysql://a:***@h/d');
    expect(redact("host=h password='abc def' user=x")).toBe('host=h password=*** user=x');
  });
});

describe('passwords withheld from argv', () => {
  beforeEach(() => clearSecrets());

  it.each([
    ['mysql+pymysql://nova:s3cret@db/nova_api', 'mysql+pymysql://nova:***@db/nova_api'],
    ['mysql://nova:p@ss@h/d?charset=utf8', 'mysql://nova:***@h/d?charset=utf8'],
    ['postgresql://p:a%2Fb%3Fc@[::1]:5432/placement', 'postgresql://p:***@[::1]:5432/placement'],
    ['mysql://:only@h/d', 'mysql://:***@h/d'],
    ['mysql://u@h/d?password=x%20y&charset=utf8', 'mysql://u@h/d?password=***&charset=utf8'],
    [
      'mysql://u:p@/d?unix_socket=/run/m.sock&password=q',
      'mysql://u:***@/d?unix_socket=/run/m.sock&password=***',
    ],
  ])('masks %s as %s, and the parse agrees', (url, masked) => {
    expect(maskUrlPasswords(url)).toBe(masked);
    const spec = parse(url);
    expect(displayUrl(parse(masked))).toBe(displayUrl(spec));
  });

  it('masks PASSWORD= in any case, though the parse refuses it without printing it', () => {
    const url = 'mysql://u:p@/d?unix_socket=/run/m.sock&PASSWORD=q-secret-1';
    expect(maskUrlPasswords(url)).toBe('mysql://u:***@/d?unix_socket=/run/m.sock&PASSWORD=***');
    const err = refusal(url);
    expect(err).toBeInstanceOf(BadUrlError);
    expect(`${err.message} ${err.hint}`).not.toContain('q-secret-1');
  });

  it.each(['mysql://u@h/d', 'sqlite:///p.sqlite', 'mysql://u:@h/d', 'not a url'])(
    'leaves %s alone',
    (url) => expect(maskUrlPasswords(url)).toBeUndefined(),
  );

  it('masks URLs in argv, as values and after --flag=, and parsing takes the passwords back', () => {
    const argv = withholdArgvPasswords([
      'node',
      'run.js',
      'migrate',
      '--source',
      'mysql+pymysql://nova:Src%23pw-1@db/nova_api',
      '--target=mysql+pymysql://placement:Tgt-pw-2@db/placement',
      '--batch-size',
      '100',
    ]);
    expect(argv).toEqual([
      'node',
      'run.js',
      'migrate',
      '--source',
      'mysql+pymysql://nova:***@db/nova_api',
      '--target=mysql+pymysql://placement:***@db/placement',
      '--batch-size',
      '100',
    ]);
    expect(parse(argv[4]!).password).toBe('Src#pw-1');
    expect(parse(argv[5]!.slice('--target='.length)).password).toBe('Tgt-pw-2');
    // Registered at once: nothing printed before the parse can show them either.
    expect(redact('Src#pw-1 Src%23pw-1 Tgt-pw-2')).toBe('*** *** ***');
  });

  it('gives two URLs that mask alike different masks, so each gets its own password back', () => {
    const [a, b] = withholdArgvPasswords(['mysql://u:first-1@h/d', 'mysql://u:second-2@h/d']);
    expect(a).toBe('mysql://u:***@h/d');
    expect(b).toBe('mysql://u:****@h/d');
    expect(parse(a!).password).toBe('first-1');
    expect(parse(b!).password).toBe('second-2');
  });

  it('keeps a URL typed with a masked password as it is', () => {
    expect(parse('mysql://u:*****@h/elsewhere').password).toBe('*****');
  });
});

describe('query parameters', () => {
  it('takes what deployment tools write, and refuses the same misspelt', () => {
    // kolla-ansible, OpenStack-Ansible, devstack (plugin=dbcounter, client_encoding=utf8).
    for (const url of [
      'mysql+pymysql://nova:pw@db/nova_api?charset=utf8',
      'mysql+pymysql://nova:pw@db/nova_api?charset=utf8&plugin=dbcounter',
      'mysql+pymysql://nova:pw@db/nova_api?charset=utf8&plugin=dbcounter&plugin=other',
      'mysql+pymysql://nova:pw@/nova_api?unix_socket=/run/mysqld/mysqld.sock',
      'postgresql://nova:pw@db/nova_api?client_encoding=utf8',
      'postgresql://nova:pw@db/nova_api?charset=utf8',
      'postgresql+psycopg2://nova@/nova_api?host=/run/postgresql&port=5433',
    ]) {
      expect(() => parse(url), url).not.toThrow();
      expect(parse(url).tls, url).toBeUndefined();
    }
    for (const [url, name] of [
      ['mysql+pymysql://nova:pw@db/nova_api?charsett=utf8', 'charsett'],
      ['mysql+pymysql://nova:pw@db/nova_api?charset=utf8&plugins=dbcounter', 'plugins'],
      ['mysql+pymysql://nova:pw@/nova_api?unix-socket=/run/mysqld/mysqld.sock', 'unix-socket'],
      ['postgresql://nova:pw@db/nova_api?clientencoding=utf8', 'clientencoding'],
    ] as const) {
      expect(refusal(url).message, url).toContain(`"${name}"`);
    }
  });

  it.each([
    ['mysql+pymysql://u:pw@h/d?ssl_caa=/etc/ca.pem', 'ssl_caa'],
    ['mysql+pymysql://u:pw@h/d?charset=utf8&foo=1', 'foo'],
    ['mysql+pymysql://u:pw@h/d?connect_timeout=5', 'connect_timeout'],
    ['mysql+pymysql://u:pw@h/d?sslmode=require', 'sslmode'],
    ['postgresql://u:pw@h/d?ssl_ca=/etc/ca.pem', 'ssl_ca'],
    ['postgresql://u:pw@h/d?sslrootcrt=/etc/ca.pem', 'sslrootcrt'],
    ['postgresql://u:pw@h/d?unix_socket=/run/x', 'unix_socket'],
  ])('refuses %s, naming %s and the parameters it takes', (url, name) => {
    const err = refusal(url);
    expect(err).toBeInstanceOf(BadUrlError);
    expect(err.exitCode).toBe(7);
    expect(err.message).toContain(`"${name}"`);
    expect(err.hint).toMatch(/It takes .*(ssl_ca|sslmode)/);
  });

  it('takes the MySQL option file TripleO writes (read when connecting), and only on MySQL', () => {
    const spec = parse(
      'mysql+pymysql://u:pw@h/d?read_default_file=/etc/my.cnf.d/tripleo.cnf&read_default_group=tripleo',
    );
    expect(spec.optionFile).toEqual({ path: '/etc/my.cnf.d/tripleo.cnf', group: 'tripleo' });
    expect(refusal('postgresql://u@h/d?read_default_group=tripleo').message).toContain(
      '"read_default_group"',
    );
  });

  it('refuses any parameter on SQLite, a repeated one, and a client_encoding other than UTF-8', () => {
    expect(refusal('sqlite:///p.sqlite?mode=ro').message).toContain('"mode"');
    expect(refusal('mysql://u@h/d?ssl_ca=/a&ssl_ca=/b').message).toMatch(/"ssl_ca" more than once/);
    expect(refusal('postgresql://u@h/d?client_encoding=latin1')).toBeInstanceOf(BadUrlError);
  });

  it('takes password= as the password, as SQLAlchemy hands it to the driver', () => {
    expect(parse('mysql://u@h/d?password=p%40ss').password).toBe('p@ss');
    expect(parse('postgresql://u:old@h/d?password=new').password).toBe('new');
  });
});

describe('TLS parameters: PyMySQL and SQLAlchemy for MySQL', () => {
  const tls = (query: string) => parse(`mysql+pymysql://u:pw@db/placement?${query}`).tls;

  it('asks for no TLS without ssl parameters, nor for ssl_verify_cert=false alone (as PyMySQL)', () => {
    expect(tls('charset=utf8')).toBeUndefined();
    expect(tls('ssl_verify_cert=false')).toBeUndefined();
    expect(tls('ssl_verify_cert=true')).toMatchObject({ mode: 'require' });
  });

  it.each([
    // ssl_ca verifies the chain and the host name; ssl_check_hostname=false the chain only.
    [
      'ssl_ca=/ca.pem',
      { mode: 'require', verify: 'full', ca: { param: 'ssl_ca', path: '/ca.pem' } },
    ],
    ['ssl_ca=/ca.pem&ssl_check_hostname=false', { mode: 'require', verify: 'chain' }],
    ['ssl_ca=/ca.pem&ssl_check_hostname=true', { mode: 'require', verify: 'full' }],
    ['ssl_capath=/etc/ssl/certs', { verify: 'full', ca: { param: 'ssl_capath', directory: true } }],
    // PyMySQL's own flags: the host name only when ssl_verify_identity says so.
    ['ssl_ca=/ca.pem&ssl_verify_cert=true', { mode: 'require', verify: 'chain' }],
    ['ssl_ca=/ca.pem&ssl_verify_cert=true&ssl_verify_identity=true', { verify: 'full' }],
    ['ssl_ca=/ca.pem&ssl_verify_cert=false', { mode: 'require', verify: 'none' }],
    ['ssl_verify_cert=true', { mode: 'require', verify: 'chain' }],
    ['ssl_verify_identity=yes', { mode: 'require', verify: 'full' }],
    // A client certificate or a cipher alone encrypts without verifying.
    [
      'ssl_cert=/c.pem&ssl_key=/k.pem&ssl_cipher=ECDHE-RSA-AES256-GCM-SHA384',
      {
        mode: 'require',
        verify: 'none',
        cert: { param: 'ssl_cert', path: '/c.pem' },
        key: { param: 'ssl_key', path: '/k.pem' },
        ciphers: 'ECDHE-RSA-AES256-GCM-SHA384',
      },
    ],
    ['ssl_disabled=true', { mode: 'disable' }],
    // mysqlclient's ssl_mode, and ssl=true|false.
    ['ssl_mode=DISABLED', { mode: 'disable' }],
    ['ssl_mode=PREFERRED', { mode: 'prefer', verify: 'none' }],
    ['ssl_mode=REQUIRED', { mode: 'require', verify: 'none' }],
    ['ssl_mode=required&ssl_ca=/ca.pem', { mode: 'require', verify: 'chain' }],
    ['ssl_mode=VERIFY_CA&ssl_ca=/ca.pem', { mode: 'require', verify: 'chain' }],
    ['ssl_mode=VERIFY_IDENTITY&ssl_ca=/ca.pem', { mode: 'require', verify: 'full' }],
    ['ssl=true', { mode: 'require', verify: 'none' }],
    ['ssl=false', { mode: 'disable' }],
  ])('%s → %j', (query, expected) => {
    expect(tls(query)).toMatchObject(expected);
  });

  it.each([
    ['ssl_verify_cert=maybe', /ssl_verify_cert=maybe, which is not true or false/],
    ['ssl_check_hostname=2', /not true or false/],
    ['ssl_mode=VERIFY_FULL', /not a MySQL SSL mode/],
    ['ssl_ca=', /empty ssl_ca/],
    ['ssl_ca=/a.pem&ssl_capath=/certs', /both ssl_ca and ssl_capath/],
    ['ssl_disabled=true&ssl_ca=/ca.pem', /turns TLS off, yet gives ssl_ca/],
    [
      'ssl_mode=DISABLED&ssl_cert=/c.pem&ssl_key=/k.pem',
      /turns TLS off, yet gives ssl_cert, ssl_key/,
    ],
    ['ssl_mode=REQUIRED&ssl_verify_cert=true', /both ssl_mode and ssl_verify_cert/],
    ['ssl=true&ssl_mode=REQUIRED', /both ssl and ssl_mode/],
    ['ssl_verify_identity=true&ssl_verify_cert=false', /host name to be checked/],
    ['ssl_verify_identity=true&ssl_check_hostname=false', /disagreeing/],
  ])('refuses %s', (query, message) => {
    const err = refusal(`mysql+pymysql://u:pw@db/placement?${query}`);
    expect(err).toBeInstanceOf(BadUrlError);
    expect(err.message).toMatch(message);
  });

  it('keeps the TLS parameters in the URL shown, and its password masked', () => {
    const spec = parse('mysql+pymysql://u:Secret-9@db/p?ssl_ca=/etc/ca.pem');
    expect(spec.tls?.ca?.path).toBe('/etc/ca.pem');
    expect(displayUrl(spec)).toBe('mysql+pymysql://u:***@db/p?ssl_ca=/etc/ca.pem');
  });
});

describe('TLS parameters: libpq for PostgreSQL', () => {
  const tls = (query: string, where = 'db') =>
    parse(`postgresql://u:pw@${where}/placement?${query}`).tls;
  const defaultRoot = join(homedir(), '.postgresql', 'root.crt');

  it('asks for no TLS without ssl parameters, and sslmode=disable says so outright', () => {
    // Outright: node-postgres then ignores PGSSLMODE.
    expect(tls('client_encoding=utf8')).toBeUndefined();
    expect(tls('sslmode=disable')).toEqual({ mode: 'disable', verify: 'none' });
  });

  it.each([
    ['sslmode=disable', { mode: 'disable' }],
    ['sslmode=allow', { mode: 'allow', verify: 'none' }],
    ['sslmode=prefer', { mode: 'prefer', verify: 'none' }],
    [
      'sslmode=require',
      { mode: 'require', verify: 'none', ca: { path: defaultRoot, implicit: true } },
    ],
    ['sslmode=verify-ca', { mode: 'require', verify: 'chain', ca: { implicit: true } }],
    [
      'sslmode=verify-full&sslrootcert=/ca.pem',
      { mode: 'require', verify: 'full', ca: { param: 'sslrootcert', path: '/ca.pem' } },
    ],
    // A root certificate verifies the chain below verify-ca too; without sslmode, libpq's prefer.
    ['sslmode=require&sslrootcert=/ca.pem', { mode: 'require', verify: 'chain' }],
    ['sslrootcert=/ca.pem', { mode: 'prefer', verify: 'chain' }],
    [
      'sslmode=verify-full&sslrootcert=/ca.pem&sslcert=/c.pem&sslkey=/k.pem',
      { cert: { param: 'sslcert', path: '/c.pem' }, key: { param: 'sslkey', path: '/k.pem' } },
    ],
  ])('%s → %j', (query, expected) => {
    expect(tls(query)).toMatchObject(expected);
  });

  it('uses no TLS on a Unix socket, as libpq, but still checks the parameters', () => {
    expect(
      parse('postgresql://u@/placement?host=/run/postgresql&sslmode=verify-full').tls,
    ).toBeUndefined();
    expect(() => parse('postgresql://u@/placement?host=/run/postgresql&sslmode=verify')).toThrow(
      /sslmode=verify, which libpq does not know/,
    );
  });

  it.each([
    ['sslmode=verify', /which libpq does not know/],
    ['sslmode=require&sslcert=/c.pem', /sslcert without sslkey/],
    ['sslkey=/k.pem', /sslkey without sslcert/],
    ['sslrootcert=', /empty sslrootcert/],
  ])('refuses %s', (query, message) => {
    const err = refusal(`postgresql://u:pw@db/placement?${query}`);
    expect(err).toBeInstanceOf(BadUrlError);
    expect(err.message).toMatch(message);
  });
});

describe('TLS files, read when connecting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pu-tls-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const attempts = (url: string) => {
    const spec = parse(url);
    return tlsAttempts(spec.tls, spec.origin);
  };
  const configError = (url: string): ConfigError => {
    try {
      attempts(url);
    } catch (err) {
      return err as ConfigError;
    }
    throw new Error(`${url} was accepted`);
  };

  it('a missing or unusable file is a configuration error (exit 2) naming the parameter and the file', () => {
    const missing = join(dir, 'missing.pem');
    for (const url of [
      `mysql://u@h/d?ssl_ca=${missing}`,
      `mysql://u@h/d?ssl_capath=${missing}`,
      `postgresql://u@h/d?sslmode=verify-full&sslrootcert=${missing}`,
      `postgresql://u@h/d?sslmode=require&sslrootcert=${missing}`,
      `postgresql://u@h/d?sslmode=require&sslcert=${missing}&sslkey=${missing}`,
    ]) {
      const err = configError(url);
      expect(err, url).toBeInstanceOf(ConfigError);
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain(missing);
      expect(err.message).toMatch(
        / in (ssl_ca|ssl_capath|sslrootcert|sslcert), which does not exist/,
      );
    }
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'not a certificate\n');
    const err = configError(`mysql://u@h/d?ssl_ca=${notPem}`);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(notPem);
    expect(err.message).toMatch(/in ssl_ca, which holds no PEM certificate/);
    writeFileSync(join(dir, 'key.pem'), 'not a key\n');
    const cert = join(dir, 'cert.pem');
    writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const unusable = configError(`mysql://u@h/d?ssl_cert=${cert}&ssl_key=${join(dir, 'key.pem')}`);
    expect(unusable.message).toMatch(/\(ssl_cert=.*cert\.pem, ssl_key=.*key\.pem\) cannot be used/);
    const noCerts = mkdtempSync(join(dir, 'capath-'));
    writeFileSync(join(noCerts, 'README'), 'no certificates here\n');
    expect(configError(`mysql://u@h/d?ssl_capath=${noCerts}`).message).toMatch(
      /directory .* in ssl_capath, which holds no PEM certificate/,
    );
  });

  it('reads no file, and makes one plain attempt, when the URL asks for no TLS', () => {
    expect(attempts('mysql://u@h/d?charset=utf8')).toEqual([null]);
    expect(attempts('postgresql://u@h/d?sslmode=disable')).toEqual([null]);
    expect(attempts('mysql://u@h/d?ssl_disabled=true')).toEqual([null]);
  });

  it('tries TLS then plain for prefer, plain then TLS for allow, TLS alone for require', () => {
    // Where ~/.postgresql/root.crt is absent, as libpq: no verification below verify-ca.
    const unverified = { verify: 'none' };
    expect(attempts('mysql://u@h/d?ssl_mode=PREFERRED')).toEqual([unverified, null]);
    expect(attempts('mysql://u@h/d?ssl_mode=REQUIRED')).toEqual([unverified]);
    const home = process.env['HOME'];
    process.env['HOME'] = dir;
    try {
      expect(attempts('postgresql://u@h/d?sslmode=allow')).toEqual([null, unverified]);
      expect(attempts('postgresql://u@h/d?sslmode=prefer')).toEqual([unverified, null]);
      // verify-ca without a root certificate anywhere: libpq's error, as a configuration error.
      expect(configError('postgresql://u@h/d?sslmode=verify-ca').message).toMatch(
        /names no root certificate \(sslrootcert\); libpq's default is .*root\.crt, which does not exist/,
      );
    } finally {
      if (home === undefined) delete process.env['HOME'];
      else process.env['HOME'] = home;
    }
  });
});
