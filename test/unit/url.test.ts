import { beforeEach, describe, expect, it } from 'vitest';
import {
  displayUrl,
  maskUrlPasswords,
  parseConnectionUrl,
  withholdArgvPasswords,
} from '../../src/db/url.js';
import { BadUrlError, UnsupportedDatabaseError } from '../../src/errors/errors.js';
import { clearSecrets, redact } from '../../src/errors/redact.js';

const parse = (url: string) => parseConnectionUrl(url, 'test');

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
      'mysql://u:p@/d?unix_socket=/run/m.sock&PASSWORD=q',
      'mysql://u:***@/d?unix_socket=/run/m.sock&PASSWORD=***',
    ],
  ])('masks %s as %s, and the parse agrees', (url, masked) => {
    expect(maskUrlPasswords(url)).toBe(masked);
    const spec = parse(url);
    expect(displayUrl(parse(masked))).toBe(displayUrl(spec));
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
