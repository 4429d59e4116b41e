import { BadUrlError, UnsupportedDatabaseError } from '../errors/errors.js';
import { registerSecret } from '../errors/redact.js';
import type { OptionFileRequest } from './option-file.js';
import {
  MYSQL_TLS_PARAMS,
  mysqlTlsRequest,
  POSTGRESQL_TLS_PARAMS,
  postgresqlTlsRequest,
  type TlsRequest,
} from './tls.js';

/** The database engines placement-upgrade speaks to. */
export type Engine = 'mysql' | 'postgresql' | 'sqlite';

export const ENGINES: readonly Engine[] = ['mysql', 'postgresql', 'sqlite'];

/**
 * A parsed connection, engine-neutral. Built from the SQLAlchemy-style URLs
 * that nova.conf and placement.conf already hold, so operators can paste
 * theirs unchanged.
 */
export interface ConnectionSpec {
  engine: Engine;
  /** The SQLAlchemy driver named in the scheme (pymysql, psycopg2 …); informational. */
  driver?: string;
  user?: string;
  password?: string;
  /** Host name or address; an IPv6 address without brackets. */
  host?: string;
  port?: number;
  /** Database name; for SQLite the file path, or ':memory:'. */
  database?: string;
  /** MySQL unix_socket, or the PostgreSQL socket directory (host=/run/postgresql). */
  socketPath?: string;
  /** Query parameters as written (charset, unix_socket, sslmode …). */
  query: Record<string, string>;
  /** The TLS the query asks for (ssl_ca=, sslmode= …); undefined when it asks for none. */
  tls?: TlsRequest;
  /**
   * MySQL: the option file read_default_file= and read_default_group= name,
   * not yet read; openDatabase reads it (withOptionFile) and fills in what
   * the URL leaves out.
   */
  optionFile?: OptionFileRequest;
  /** MySQL: the local address to connect from (an option file's bind-address). */
  bindAddress?: string;
  /** Where this connection came from, for error messages: "--placement-url", "placement.conf [placement_database] connection" … */
  origin: string;
}

const DRIVERS: Record<string, { engine: Engine; drivers: readonly string[] }> = {
  mysql: {
    engine: 'mysql',
    drivers: ['pymysql', 'mysqldb', 'mysqlconnector', 'mariadbconnector', 'oursql', 'cymysql'],
  },
  mariadb: {
    engine: 'mysql',
    drivers: ['pymysql', 'mysqldb', 'mysqlconnector', 'mariadbconnector'],
  },
  postgresql: { engine: 'postgresql', drivers: ['psycopg2', 'psycopg', 'pg8000', 'asyncpg'] },
  sqlite: { engine: 'sqlite', drivers: ['pysqlite', 'pysqlcipher'] },
};

const EXAMPLES =
  'Examples: mysql+pymysql://placement:SECRET@db.example.org/placement?charset=utf8, ' +
  'postgresql://placement@127.0.0.1:5432/placement, sqlite:///placement.sqlite (relative) ' +
  'or sqlite:////var/lib/placement/placement.sqlite (absolute).';

function decode(part: string, what: string, origin: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new BadUrlError(
      `The connection URL from ${origin} has a malformed percent-escape in its ${what}.`,
      'Percent-encode special characters as %XX (for example @ as %40, / as %2F, % as %25).',
    );
  }
}

/**
 * The query parameters each engine takes; any other is refused, so that a
 * misspelt or unsupported one (ssl_caa=, connect_timeout=) cannot silently
 * change what the connection means. password= is the password, as
 * SQLAlchemy hands the query to the driver after the URL's own parts.
 */
const QUERY_PARAMS: Record<Engine, readonly string[]> = {
  mysql: [
    // Ignored: the connection is always utf8mb4 (see knexConfig).
    'charset',
    'unix_socket',
    'password',
    // Ignored: a SQLAlchemy engine plugin (devstack writes plugin=dbcounter); none applies here.
    'plugin',
    // PyMySQL's option file (TripleO writes both): read when connecting, see option-file.ts.
    'read_default_file',
    'read_default_group',
    ...MYSQL_TLS_PARAMS,
  ],
  postgresql: [
    'host',
    'port',
    'password',
    // Ignored: node-postgres always speaks UTF8; utf8 is the only value taken (devstack writes it).
    'client_encoding',
    // Ignored as on MySQL (psycopg2 itself would refuse it, but generated configs add it everywhere).
    'charset',
    'plugin',
    ...POSTGRESQL_TLS_PARAMS,
  ],
  sqlite: [],
};

/** Parameters that may be given more than once (SQLAlchemy loads every plugin named). */
const REPEATABLE = new Set(['plugin']);

const ENGINE_NAMES: Record<Engine, string> = {
  mysql: 'MySQL/MariaDB',
  postgresql: 'PostgreSQL',
  sqlite: 'SQLite',
};

/** Refuses a query parameter the engine does not take, naming it and those it does. */
function checkQuery(engine: Engine, query: Record<string, string>, origin: string): void {
  const accepted = QUERY_PARAMS[engine];
  for (const key of Object.keys(query)) {
    if (accepted.includes(key)) continue;
    const name = key.length > 40 ? `${key.slice(0, 40)}…` : key;
    throw new BadUrlError(
      `The connection URL from ${origin} has the query parameter "${name}", which placement-upgrade does not take for ${ENGINE_NAMES[engine]}.`,
      accepted.length === 0
        ? 'A SQLite URL takes no query parameters: sqlite:///path/to/file.sqlite.'
        : `It takes ${accepted.join(', ')}. A parameter it could not honour is refused rather than ignored: remove it, or correct its spelling.`,
    );
  }
  const encoding = query['client_encoding'];
  if (encoding !== undefined && !/^(utf-?8|unicode)$/i.test(encoding)) {
    throw new BadUrlError(
      `The connection URL from ${origin} has client_encoding=${encoding}; placement-upgrade always speaks UTF8 to PostgreSQL.`,
      'Write client_encoding=utf8, or leave it out.',
    );
  }
}

const SCHEME = /^([A-Za-z][A-Za-z0-9]*)(?:\+([A-Za-z0-9_]+))?:\/\//;

/** A URL's text cut where SQLAlchemy cuts it, before anything is decoded. */
interface RawUrl {
  scheme: string;
  driver?: string;
  credentials?: string;
  hostPort: string;
  path?: string;
  queryString: string;
  /** Where the password is in the text, [start, end), when there is one. */
  passwordSpan?: [number, number];
  /** Where the query string starts in the text, when there is one. */
  queryStart?: number;
}

/** The one place that knows where a URL's parts (and its password) are: parsing and masking agree. */
function splitUrl(text: string): RawUrl | undefined {
  const schemeMatch = SCHEME.exec(text);
  if (!schemeMatch) return undefined;
  const [prefix, scheme = '', driver] = schemeMatch;
  const rest = text.slice(prefix.length);

  // Split off the query first: a password may contain '?' only when encoded.
  const qIndex = rest.indexOf('?');
  const main = qIndex === -1 ? rest : rest.slice(0, qIndex);
  const queryString = qIndex === -1 ? '' : rest.slice(qIndex + 1);

  // Credentials end at the last '@' before the path, so an unencoded '@' in a password survives.
  const slash = main.indexOf('/', main.lastIndexOf('@') + 1);
  const authority = slash === -1 ? main : main.slice(0, slash);
  const path = slash === -1 ? undefined : main.slice(slash + 1);
  const at = authority.lastIndexOf('@');
  const credentials = at === -1 ? undefined : authority.slice(0, at);
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
  const colon = credentials === undefined ? -1 : credentials.indexOf(':');
  return {
    scheme,
    driver,
    credentials,
    hostPort,
    path,
    queryString,
    passwordSpan: colon === -1 ? undefined : [prefix.length + colon + 1, prefix.length + at],
    queryStart: qIndex === -1 ? undefined : prefix.length + qIndex + 1,
  };
}

/**
 * Parses a SQLAlchemy-style database URL. The password, if any, is registered
 * for redaction before anything else can print it. A URL that came from argv
 * arrives masked (see withholdArgvPasswords) and gets its password back here.
 */
export function parseConnectionUrl(url: string, origin: string): ConnectionSpec {
  const trimmed = (withheld.get(url.trim()) ?? url).trim();
  const parts = splitUrl(trimmed);
  if (!parts) {
    throw new BadUrlError(
      `The connection URL from ${origin} is not a database URL (expected scheme://…).`,
      EXAMPLES,
    );
  }
  const { scheme: rawScheme, credentials, hostPort, path, queryString } = parts;
  const scheme = rawScheme.toLowerCase();
  const driver = parts.driver?.toLowerCase();

  let user: string | undefined;
  let password: string | undefined;
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':');
    const rawUser = colon === -1 ? credentials : credentials.slice(0, colon);
    const rawPassword = colon === -1 ? undefined : credentials.slice(colon + 1);
    // Register before decoding can fail, so even a malformed password never prints.
    registerSecret(rawPassword);
    password = rawPassword === undefined ? undefined : decode(rawPassword, 'password', origin);
    registerSecret(password);
    user = rawUser === '' ? undefined : decode(rawUser, 'user name', origin);
  }

  const known = DRIVERS[scheme];
  if (!known) {
    const hint =
      scheme === 'postgres'
        ? 'Write postgresql:// (SQLAlchemy, and so placement, no longer accept postgres://).'
        : 'placement-upgrade supports MySQL/MariaDB (mysql://, mysql+pymysql://), PostgreSQL (postgresql://, postgresql+psycopg2://) and SQLite (sqlite:///file).';
    throw new UnsupportedDatabaseError(
      `The connection URL from ${origin} names the database type "${rawScheme}", which placement-upgrade does not support.`,
      hint,
    );
  }
  if (driver !== undefined && !known.drivers.includes(driver)) {
    throw new UnsupportedDatabaseError(
      `The connection URL from ${origin} names the driver "${scheme}+${driver}", which placement-upgrade does not know.`,
      `Known drivers for ${scheme}: ${known.drivers.map((d) => `${scheme}+${d}`).join(', ')}, or plain ${scheme}://.`,
    );
  }

  let host: string | undefined;
  let port: number | undefined;
  if (hostPort !== '') {
    let portText: string | undefined;
    if (hostPort.startsWith('[')) {
      const close = hostPort.indexOf(']');
      if (close === -1) {
        throw new BadUrlError(
          `The connection URL from ${origin} has an IPv6 host without its closing bracket.`,
          'Write IPv6 hosts in brackets, e.g. mysql+pymysql://placement@[fd00::10]:3306/placement.',
        );
      }
      host = hostPort.slice(1, close);
      const after = hostPort.slice(close + 1);
      if (after !== '' && !after.startsWith(':')) {
        throw new BadUrlError(
          `The connection URL from ${origin} has unexpected text after its IPv6 host.`,
          'Write IPv6 hosts in brackets, e.g. [fd00::10]:3306.',
        );
      }
      portText = after === '' ? undefined : after.slice(1);
    } else {
      const colon = hostPort.lastIndexOf(':');
      if (colon !== -1 && hostPort.indexOf(':') !== colon) {
        throw new BadUrlError(
          `The connection URL from ${origin} has a host with several colons; an IPv6 address must be in brackets.`,
          'Write IPv6 hosts in brackets, e.g. postgresql://placement@[fd00::10]:5432/placement.',
        );
      }
      host = colon === -1 ? hostPort : hostPort.slice(0, colon);
      portText = colon === -1 ? undefined : hostPort.slice(colon + 1);
    }
    host = host === '' ? undefined : decode(host, 'host', origin);
    if (portText !== undefined && portText !== '') {
      const n = /^\d+$/.test(portText) ? Number(portText) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 65535) {
        throw new BadUrlError(
          `The connection URL from ${origin} has the port "${portText}", which is not a number from 1 to 65535.`,
          EXAMPLES,
        );
      }
      port = n;
    }
  }

  const query: Record<string, string> = {};
  const repeated: string[] = [];
  if (queryString !== '') {
    for (const pair of queryString.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const k = decode(eq === -1 ? pair : pair.slice(0, eq), 'query', origin);
      const v = decode(eq === -1 ? '' : pair.slice(eq + 1).replace(/\+/g, ' '), 'query', origin);
      if (k.toLowerCase() === 'password') registerSecret(v);
      if (k in query && !REPEATABLE.has(k)) repeated.push(k);
      query[k] = v;
    }
  }

  const engine = known.engine;
  const database = path === undefined || path === '' ? undefined : decode(path, 'database', origin);
  const spec: ConnectionSpec = {
    engine,
    driver,
    user,
    password,
    host,
    port,
    database,
    query,
    origin,
  };

  checkQuery(engine, query, origin);
  if (repeated.length > 0) {
    throw new BadUrlError(
      `The connection URL from ${origin} gives the query parameter "${repeated[0]}" more than once.`,
      'Give each parameter once.',
    );
  }
  if (query['password'] !== undefined) spec.password = query['password'];

  if (engine === 'sqlite') {
    if (host !== undefined || user !== undefined || port !== undefined) {
      throw new BadUrlError(
        `The SQLite URL from ${origin} has a host or user; SQLite URLs name only a file.`,
        'Use sqlite:///relative/path.sqlite or sqlite:////absolute/path.sqlite (four slashes).',
      );
    }
    spec.database = database ?? ':memory:';
    return spec;
  }

  if (engine === 'mysql' && query['unix_socket']) spec.socketPath = query['unix_socket'];
  if (engine === 'mysql') {
    const optionFile = optionFileRequest(query, origin);
    if (optionFile) spec.optionFile = optionFile;
  }
  if (engine === 'postgresql' && query['host']) {
    if (query['host'].startsWith('/')) spec.socketPath = query['host'];
    else spec.host ??= query['host'];
  }
  if (engine === 'postgresql' && query['port'] && spec.port === undefined) {
    const n = Number(query['port']);
    if (Number.isInteger(n) && n > 0 && n < 65536) spec.port = n;
  }
  // With an option file, these wait until it is read: it may give the database, host or socket.
  if (!spec.database && !spec.optionFile) {
    throw new BadUrlError(
      `The connection URL from ${origin} names no database (the part after the last "/").`,
      EXAMPLES,
    );
  }
  if (!spec.host && !spec.socketPath && !spec.optionFile) spec.host = 'localhost';
  spec.tls =
    engine === 'mysql'
      ? mysqlTlsRequest(query, origin)
      : postgresqlTlsRequest(query, origin, spec.socketPath !== undefined);
  if (spec.tls === undefined) delete spec.tls;
  return spec;
}

/**
 * The option file a MySQL URL names, as PyMySQL's connect() takes
 * read_default_file and read_default_group: a group alone reads /etc/my.cnf,
 * a file alone its [client] group. An empty one is refused, as an empty
 * ssl_ca= is, rather than read as PyMySQL's "not given".
 */
function optionFileRequest(
  query: Record<string, string>,
  origin: string,
): OptionFileRequest | undefined {
  const path = query['read_default_file'];
  const group = query['read_default_group'];
  if (path === undefined && group === undefined) return undefined;
  for (const [param, value, what] of [
    ['read_default_file', path, 'the path of a MySQL option file'],
    ['read_default_group', group, 'the name of a group in it'],
  ] as const) {
    if (value !== undefined && value.trim() === '') {
      throw new BadUrlError(
        `The connection URL from ${origin} has an empty ${param}=.`,
        `Give ${param} ${what}, or leave it out (PyMySQL reads /etc/my.cnf for a group alone, and [client] for a file alone).`,
      );
    }
  }
  return { path: path ?? '/etc/my.cnf', group: group ?? 'client' };
}

/** The URL with its password masked: safe for every message and log line. */
export function displayUrl(spec: ConnectionSpec): string {
  if (spec.engine === 'sqlite') {
    return spec.database === ':memory:' ? 'sqlite://' : `sqlite:///${spec.database ?? ''}`;
  }
  const scheme = spec.driver ? `${spec.engine}+${spec.driver}` : spec.engine;
  const userPart = spec.user
    ? `${encodeURIComponent(spec.user)}${spec.password !== undefined ? ':***' : ''}@`
    : '';
  const hostPart =
    spec.socketPath && !spec.host
      ? ''
      : spec.host?.includes(':')
        ? `[${spec.host}]`
        : (spec.host ?? '');
  const portPart = spec.port ? `:${spec.port}` : '';
  const q = Object.entries(spec.query)
    .filter(([k]) => k.toLowerCase() !== 'password')
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return `${scheme}://${userPart}${hostPart}${portPart}/${spec.database ?? ''}${q ? `?${q}` : ''}`;
}

const MASK = '***';
const WITHHELD = Symbol.for('placement-upgrade.withheld-urls');

/** The URL's text with its passwords masked, and the raw (undecoded) passwords it held. */
function maskPasswords(url: string, mask: string): { text: string; passwords: string[] } {
  const parts = splitUrl(url);
  if (!parts) return { text: url, passwords: [] };
  const passwords: string[] = [];
  let text = url;
  // The query first: it comes after the password, whose offsets stay valid.
  if (parts.queryStart !== undefined) {
    const query = parts.queryString
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq === -1 || eq === pair.length - 1) return pair;
        const key = pair.slice(0, eq);
        if (safeDecode(key).toLowerCase() !== 'password') return pair;
        passwords.push(pair.slice(eq + 1));
        return `${key}=${mask}`;
      })
      .join('&');
    text = `${url.slice(0, parts.queryStart)}${query}`;
  }
  if (parts.passwordSpan && parts.passwordSpan[1] > parts.passwordSpan[0]) {
    const [start, end] = parts.passwordSpan;
    passwords.push(url.slice(start, end));
    text = `${text.slice(0, start)}${mask}${text.slice(end)}`;
  }
  return { text, passwords };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The URL's text with its password, and any password= query parameter,
 * replaced by `mask`, the rest exactly as written; undefined when it holds
 * no password.
 */
export function maskUrlPasswords(url: string, mask = MASK): string | undefined {
  const { text } = maskPasswords(url, mask);
  return text === url ? undefined : text;
}

/**
 * Text of the URLs withheld from oclif, by the masked text it was given
 * instead. Process-wide: bin/dev.js loads this module through its own loader
 * and oclif loads the commands through tsx's, two instances of one map.
 */
const withheld = ((globalThis as { [WITHHELD]?: Map<string, string> })[WITHHELD] ??= new Map());

const URL_START = /[A-Za-z][A-Za-z0-9]*(?:\+[A-Za-z0-9_]+)?:\/\//;

/**
 * argv with the password of every URL in it masked, for bin/run.js to hand to
 * oclif: oclif prints argv under DEBUG and echoes an argument it cannot place
 * ("command migrate:<url> not found") before any command could redact it. The
 * real URLs stay in this process, and parseConnectionUrl takes them back; the
 * passwords are registered for redaction as well.
 */
export function withholdArgvPasswords(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    const start = arg.search(URL_START);
    if (start === -1) return arg;
    const original = arg.slice(start);
    // Two URLs masked alike (same user, host and database) get masks of different lengths.
    for (let mask = MASK; ; mask += '*') {
      const { text, passwords } = maskPasswords(original, mask);
      if (text === original) return arg;
      const known = withheld.get(text.trim());
      if (known !== undefined && known !== original.trim()) continue;
      for (const password of passwords) {
        registerSecret(password);
        registerSecret(safeDecode(password));
      }
      withheld.set(text.trim(), original.trim());
      return `${arg.slice(0, start)}${text}`;
    }
  });
}

/** The environment variable that hands withheld URLs to a process started with the same, masked argv. */
export const WITHHELD_URLS_ENV = 'PLACEMENT_UPGRADE_WITHHELD_URLS';

/**
 * The withheld URLs (masked → real), for a child started with this
 * process's masked argv: node:cluster forks `api serve`'s workers so, and
 * they could not log in with the masks. Only the child's environment holds
 * it (readable by the same user alone, unlike argv), and the child removes it.
 */
export function withheldUrlsForChild(): Record<string, string> {
  return withheld.size === 0 ? {} : { [WITHHELD_URLS_ENV]: JSON.stringify([...withheld]) };
}

/** Takes back the URLs a parent withheld (see withheldUrlsForChild), their passwords redacted here too. */
export function restoreWithheldUrls(env: NodeJS.ProcessEnv = process.env): void {
  const text = env[WITHHELD_URLS_ENV];
  if (text === undefined) return;
  delete env[WITHHELD_URLS_ENV];
  for (const [masked, original] of JSON.parse(text) as [string, string][]) {
    for (const password of maskPasswords(original, MASK).passwords) {
      registerSecret(password);
      registerSecret(safeDecode(password));
    }
    withheld.set(masked, original);
  }
}
