/**
 * MySQL option files (my.cnf) named by a URL's read_default_file= and
 * read_default_group=, read as PyMySQL (1.1 and later) reads them, so that
 * the URL TripleO writes reaches the server placement reaches: Python's
 * configparser (RawConfigParser, allow_no_value) with PyMySQL's own
 * touches. That is not the MySQL client's parser: `!include` and
 * `!includedir` are not followed (inside a group they are option names
 * without a value, which PyMySQL never asks for; before the first group they
 * make the file unreadable), `#` starts a comment only at the start of a
 * line, `key: value` is `key = value`, an indented line continues the value
 * above it, a group or a key given twice in one file is an error, and
 * [DEFAULT] holds defaults for every group. Keys are case-insensitive and
 * `_` is `-`; a value loses one pair of enclosing quotes.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { BadUrlError, ConfigError } from '../errors/errors.js';
import { registerSecret } from '../errors/redact.js';
import { MYSQL_TLS_PARAMS, mysqlTlsRequest, unreadableBecause, type TlsFile } from './tls.js';
import type { ConnectionSpec } from './url.js';

/** The option file a MySQL URL names: PyMySQL reads /etc/my.cnf for a group alone, and [client] for a file alone. */
export interface OptionFileRequest {
  path: string;
  group: string;
}

/** configparser's default section: its options are defaults for every group. */
const DEFAULTS = 'DEFAULT';

/** An option file's groups: each key (normalised) and its value, null for a bare key. */
export type OptionGroups = Map<string, Map<string, string | null>>;

/** A key as PyMySQL's parser stores it: lower case, `_` as `-`. */
const normaliseKey = (key: string) => key.toLowerCase().replace(/_/g, '-');

/** Python's str.strip() for the whitespace an option file holds. */
const strip = (s: string) => s.replace(/^\s+|\s+$/g, '');

// configparser's SECTCRE ("very permissive"), matched at the start of the stripped line.
const SECTION = /^\[(.+)\]/;

/**
 * Parses an option file's text as configparser does, or throws a ConfigError
 * where configparser (and so PyMySQL's connect()) would raise. Values are
 * never echoed in a message: one may be a password.
 */
export function parseOptionFile(text: string, path: string): OptionGroups {
  const groups: OptionGroups = new Map();
  const fail = (line: number, what: string, hint: string) =>
    new ConfigError(
      `The MySQL option file ${path} cannot be read as PyMySQL (and so placement) reads it: line ${line} ${what}.`,
      hint,
    );
  // Values as their lines, joined at the end (configparser's multi-line values).
  const lines = new Map<string, Map<string, string[] | null>>();
  const seen = new Set<string>();
  let group: string | undefined;
  let current: Map<string, string[] | null> | undefined;
  let key: string | undefined;
  let indent = Number.MAX_SAFE_INTEGER;
  // Python reads text files with universal newlines: \r\n and \r end a line too.
  const all = text.split(/\r\n|\r|\n/);
  if (all[all.length - 1] === '') all.pop();
  for (const [index, line] of all.entries()) {
    const number = index + 1;
    const stripped = strip(line);
    const comment = stripped.startsWith('#') || stripped.startsWith(';');
    if (comment || stripped === '') {
      // A blank line belongs to the value above (it matters only if an indented line follows).
      if (!comment && current && key !== undefined) current.get(key)?.push('');
      continue;
    }
    const lineIndent = line.search(/\S/);
    if (current && key !== undefined && lineIndent > indent) {
      const value = current.get(key);
      if (!value) {
        throw fail(
          number,
          `is indented, which continues the value of "${key}" above it, a key without a value`,
          'Start each key at the beginning of its line.',
        );
      }
      value.push(stripped);
      continue;
    }
    indent = lineIndent;
    const header = SECTION.exec(stripped);
    if (header) {
      group = header[1]!;
      if (group !== DEFAULTS && seen.has(group)) {
        throw fail(
          number,
          `starts the group [${group}] a second time`,
          'Give each group once in a file: merge the two.',
        );
      }
      seen.add(group);
      current = lines.get(group) ?? new Map();
      lines.set(group, current);
      key = undefined;
      continue;
    }
    if (!current || group === undefined) {
      throw fail(
        number,
        /^!include/.test(stripped)
          ? 'is an include directive before any [group], which PyMySQL does not follow'
          : 'comes before any [group]',
        'Put the options in a [group] (the one read_default_group names, else [client]); PyMySQL reads only the named file, so include directives are of no use to it.',
      );
    }
    // configparser's OPTCRE_NV: the key ends at the first "=" or ":".
    const delimiter = stripped.search(/[=:]/);
    const rawKey = delimiter === -1 ? stripped : stripped.slice(0, delimiter);
    const name = normaliseKey(strip(rawKey));
    if (name === '') {
      throw fail(number, 'has no key before its "=" or ":"', 'Write key=value.');
    }
    if (current.has(name)) {
      throw fail(
        number,
        `gives "${name}" a second time in [${group}] ("_" and "-" are the same in a key)`,
        'Give each key once in a group.',
      );
    }
    current.set(name, delimiter === -1 ? null : [strip(stripped.slice(delimiter + 1))]);
    key = name;
  }
  for (const [name, options] of lines) {
    const joined = new Map<string, string | null>();
    for (const [k, v] of options) joined.set(k, v === null ? null : v.join('\n').trimEnd());
    groups.set(name, joined);
  }
  return groups;
}

/** PyMySQL strips one pair of matching quotes from a value. */
function unquote(value: string): string {
  for (const q of ["'", '"']) {
    if (value.length >= 2 && value.startsWith(q) && value.endsWith(q)) return value.slice(1, -1);
  }
  return value;
}

/** `~` as os.path.expanduser reads it (its HOME, else the account's home directory). */
function expandHome(path: string): string {
  if (path !== '~' && !path.startsWith('~/')) return path;
  return `${process.env['HOME'] || homedir()}${path.slice(1)}`;
}

/** Keys whose values are secrets: registered for redaction the moment they are read. */
const SECRET_KEYS = ['password', 'ssl-password'];

/**
 * The options one group of an option file gives (bare keys left out, quotes
 * removed), with [DEFAULT]'s beneath them. Unlike PyMySQL, which quietly
 * connects without a file it cannot read or a group it does not find, both
 * are configuration errors: the URL asked for them.
 */
export function readOptionGroup(request: OptionFileRequest, origin: string): Map<string, string> {
  const path = expandHome(request.path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = unreadableBecause(err);
    throw new ConfigError(
      `The connection URL from ${origin} names the MySQL option file ${path}${request.path === '/etc/my.cnf' ? ' (read_default_file=, which is /etc/my.cnf when only read_default_group= is given)' : ' in read_default_file='}, ${why}; it was to give the group [${request.group}].`,
      'Check the path in read_default_file=; the file must be readable by the user running placement-upgrade (or put what it holds in the URL itself).',
      err,
    );
  }
  const groups = parseOptionFile(text, path);
  const own = groups.get(request.group);
  if (!own) {
    const found = [...groups.keys()].map((g) => `[${g}]`);
    throw new ConfigError(
      `The MySQL option file ${path}, named by the connection URL from ${origin}, has no group [${request.group}]${found.length > 0 ? ` (it has ${found.join(', ')})` : ''}.`,
      `Name the group in read_default_group= (group names are case-sensitive; without it PyMySQL reads [client]), or add [${request.group}] to the file.`,
    );
  }
  const options = new Map<string, string>();
  for (const source of [groups.get(DEFAULTS), own]) {
    for (const [k, v] of source ?? []) {
      // A bare key hides [DEFAULT]'s value too: PyMySQL then takes none.
      if (v === null) {
        options.delete(k);
        continue;
      }
      const value = unquote(v);
      if (SECRET_KEYS.includes(k)) {
        registerSecret(v);
        registerSecret(value);
      }
      options.set(k, value);
    }
  }
  return options;
}

/** The option-file keys PyMySQL takes as TLS settings, with the URL parameter each stands for. */
const TLS_KEYS = [
  ['ssl-ca', 'ssl_ca'],
  ['ssl-capath', 'ssl_capath'],
  ['ssl-cert', 'ssl_cert'],
  ['ssl-key', 'ssl_key'],
  ['ssl-cipher', 'ssl_cipher'],
] as const;

/**
 * The connection with its option file read: what the URL does not give
 * (user, password, host, port, database, socket, TLS files and cipher) is
 * taken from the group, as PyMySQL's connect() does, and the file's
 * bind-address is where it connects from. The URL wins whatever it gives,
 * and so does a password given in the environment (it stands for the URL's).
 * A socket from the file is used even when the URL names a host, as
 * PyMySQL does. default-character-set is ignored as charset= is: the
 * connection is always utf8mb4. Read when connecting, once; a connection
 * without an option file is returned as it is.
 */
export function withOptionFile(spec: ConnectionSpec): ConnectionSpec {
  const request = spec.optionFile;
  if (!request) return spec;
  const options = readOptionGroup(request, spec.origin);
  const path = expandHome(request.path);
  const where = `[${request.group}] of ${path}`;
  const value = (key: string) => options.get(key) || undefined;

  const resolved: ConnectionSpec = { ...spec, query: { ...spec.query } };
  delete resolved.optionFile;
  // PyMySQL's rule: a value the URL gives (not empty) wins; else the file's.
  const fill = (field: 'user' | 'password' | 'host' | 'database' | 'socketPath', key: string) => {
    const v = spec[field] || value(key);
    if (v !== undefined) resolved[field] = v;
  };
  fill('user', 'user');
  fill('password', 'password');
  fill('host', 'host');
  fill('database', 'database');
  fill('socketPath', 'socket');
  if (!spec.port && options.has('port')) resolved.port = port(options.get('port')!, where);
  const bind = value('bind-address');
  if (bind !== undefined) {
    if (isIP(bind) === 0) {
      throw new ConfigError(
        `The MySQL option file group ${where}, named by the connection URL from ${spec.origin}, has bind-address=${bind}, which is not an IP address.`,
        'Give bind-address the IPv4 or IPv6 address of this host to connect from (placement-upgrade does not resolve a name there).',
      );
    }
    resolved.bindAddress = bind;
  }

  if (!resolved.database) {
    throw new BadUrlError(
      `The connection URL from ${spec.origin} names no database (the part after the last "/"), nor does its option file group ${where}.`,
      'Write the database in the URL (mysql+pymysql:///placement?read_default_file=…), or database=… in the group.',
    );
  }
  if (!resolved.host && !resolved.socketPath) resolved.host = 'localhost';

  resolved.tls = tlsWithOptionFile(spec, options, where, path, request.group);
  if (resolved.tls === undefined) delete resolved.tls;
  return resolved;
}

/** A port as PyMySQL's int() takes it, or a configuration error naming the file. */
function port(text: string, where: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new ConfigError(
      `The MySQL option file group ${where} has port=${text}, which is not a number from 1 to 65535.`,
      'Correct port= in the option file, or give the port in the URL (it wins over the file).',
    );
  }
  return n;
}

/**
 * The TLS of a URL with its option file: the file's ssl-ca, ssl-capath,
 * ssl-cert, ssl-key and ssl-cipher fill the URL's ssl_* parameters it does
 * not give, and then mean what those mean (ssl-ca verifies the chain and the
 * host name unless the URL says otherwise). A URL that turns TLS off
 * (ssl_disabled=true, ssl_mode=DISABLED, ssl=false) keeps it off, as
 * PyMySQL's ssl_disabled does.
 */
function tlsWithOptionFile(
  spec: ConnectionSpec,
  options: Map<string, string>,
  where: string,
  path: string,
  group: string,
): ConnectionSpec['tls'] {
  if (spec.tls?.mode === 'disable') return spec.tls;
  if (options.get('ssl-password')) {
    throw new ConfigError(
      `The MySQL option file group ${where}, named by the connection URL from ${spec.origin}, has ssl-password, the passphrase of an encrypted ssl-key; placement-upgrade takes only an unencrypted key.`,
      'Give ssl-key a copy of the key without its passphrase (openssl pkey -in key.pem -out plain-key.pem, readable only by this user), and drop ssl-password.',
    );
  }
  const query: Record<string, string> = Object.fromEntries(
    Object.entries(spec.query).filter(([k]) => (MYSQL_TLS_PARAMS as readonly string[]).includes(k)),
  );
  const fromFile = new Map<string, string>();
  for (const [key, param] of TLS_KEYS) {
    const v = options.get(key);
    // PyMySQL takes a file's ssl-* only when it is not empty, and only where the URL gives none.
    if (!v || query[param] !== undefined) continue;
    query[param] = v;
    fromFile.set(param, key);
  }
  if (fromFile.size === 0) return spec.tls;
  if (query['ssl_ca'] !== undefined && query['ssl_capath'] !== undefined) {
    const name = (param: string) =>
      fromFile.has(param) ? `${fromFile.get(param)} (${where})` : `${param} (the URL)`;
    throw new ConfigError(
      `The connection URL from ${spec.origin} and its option file give both ${name('ssl_ca')} and ${name('ssl_capath')}.`,
      'placement-upgrade trusts one CA file or one CA directory: remove one of them.',
    );
  }
  const tls = mysqlTlsRequest(query, spec.origin);
  if (!tls) return undefined;
  // A file the option file named is named so in messages: "ssl-ca ([tripleo] of /etc/my.cnf.d/tripleo.cnf)".
  const relabel = (f: TlsFile | undefined): TlsFile | undefined =>
    f && fromFile.has(f.param)
      ? { ...f, param: fromFile.get(f.param)!, optionFile: { path, group } }
      : f;
  const ca = relabel(tls.ca);
  const cert = relabel(tls.cert);
  const key = relabel(tls.key);
  return {
    ...tls,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}
