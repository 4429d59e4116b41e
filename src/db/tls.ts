/**
 * TLS for database servers, read from a URL's query the way placement's own
 * drivers read it: SQLAlchemy + PyMySQL's ssl_* parameters for MySQL,
 * libpq's sslmode/sslrootcert/sslcert/sslkey (psycopg2) for PostgreSQL.
 * Parsing gives an engine-neutral request; the files it names are read only
 * when connecting, and each dialect renders the result for its driver.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { BadUrlError, ConfigError } from '../errors/errors.js';

/**
 * How a connection uses TLS, with libpq's names: require (TLS or fail),
 * prefer (TLS, else plain), allow (plain, else TLS), disable (never TLS).
 */
export type TlsMode = 'disable' | 'allow' | 'prefer' | 'require';

/**
 * What is checked of the server's certificate: nothing (encrypted only), that
 * it chains to a trusted CA, or that and that it names the host connected to.
 */
export type TlsVerify = 'none' | 'chain' | 'full';

/** A file (or for ssl_capath a directory) a URL parameter names. */
export interface TlsFile {
  /** The URL parameter that named it, for error messages. */
  param: string;
  path: string;
  directory?: boolean;
  /** libpq's default ~/.postgresql/root.crt: used when it exists, and then it verifies the chain. */
  implicit?: boolean;
  /** Named by a MySQL option file's group (param is then its key, ssl-ca …), not by the URL itself. */
  optionFile?: { path: string; group: string };
}

/** Where a file was named, for messages: "ssl_ca", or "ssl-ca ([tripleo] of /etc/my.cnf.d/tripleo.cnf)". */
function setting(f: TlsFile): string {
  return f.optionFile ? `${f.param} ([${f.optionFile.group}] of ${f.optionFile.path})` : f.param;
}

/** What a URL asks of TLS, before any file is read. */
export interface TlsRequest {
  mode: TlsMode;
  verify: TlsVerify;
  /** The CAs to trust; without one, Node.js's bundled CAs. */
  ca?: TlsFile;
  cert?: TlsFile;
  key?: TlsFile;
  ciphers?: string;
}

/** TLS settings with their files read: what a dialect hands its driver. */
export interface TlsOptions {
  verify: TlsVerify;
  ca?: string[];
  cert?: string;
  key?: string;
  ciphers?: string;
}

/** Encrypted and unverified, no files: how a server is asked whether it would take TLS at all. */
export const UNVERIFIED_TLS: TlsOptions = { verify: 'none' };

/** The MySQL parameters: SQLAlchemy's ssl dict keys, PyMySQL's ssl_* arguments, mysqlclient's ssl_mode and ssl. */
export const MYSQL_TLS_PARAMS = [
  'ssl_ca',
  'ssl_capath',
  'ssl_cert',
  'ssl_key',
  'ssl_cipher',
  'ssl_check_hostname',
  'ssl_verify_cert',
  'ssl_verify_identity',
  'ssl_disabled',
  'ssl_mode',
  'ssl',
] as const;

/** The PostgreSQL parameters: libpq's. */
export const POSTGRESQL_TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'] as const;

type Query = Readonly<Record<string, string>>;

// SQLAlchemy's asbool vocabulary.
const TRUE = new Set(['true', 'yes', 'on', 'y', 't', '1']);
const FALSE = new Set(['false', 'no', 'off', 'n', 'f', '0']);

function bool(query: Query, param: string, origin: string): boolean | undefined {
  const value = query[param];
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new BadUrlError(
    `The connection URL from ${origin} has ${param}=${value}, which is not true or false.`,
    `Write ${param}=true or ${param}=false.`,
  );
}

function file(query: Query, param: string, origin: string, directory = false): TlsFile | undefined {
  const path = query[param];
  if (path === undefined) return undefined;
  if (path === '') {
    throw new BadUrlError(
      `The connection URL from ${origin} has an empty ${param}=.`,
      `Give ${param} the path of a PEM ${directory ? 'directory' : 'file'}, or leave it out.`,
    );
  }
  return directory ? { param, path, directory } : { param, path };
}

function contradiction(origin: string, what: string, hint: string): BadUrlError {
  return new BadUrlError(`The connection URL from ${origin} ${what}.`, hint);
}

const MYSQL_MODES: Record<string, { mode: TlsMode; verify?: TlsVerify }> = {
  DISABLED: { mode: 'disable' },
  PREFERRED: { mode: 'prefer' },
  REQUIRED: { mode: 'require' },
  VERIFY_CA: { mode: 'require', verify: 'chain' },
  VERIFY_IDENTITY: { mode: 'require', verify: 'full' },
};

/**
 * The TLS a MySQL URL asks for, as SQLAlchemy and PyMySQL read it: ssl_ca
 * (or ssl_capath) verifies the certificate chain and the host name
 * (ssl_check_hostname=false: the chain only); ssl_cert, ssl_key or ssl_cipher
 * alone encrypt without verifying; ssl_verify_cert and ssl_verify_identity
 * say what is verified outright, and then the host name only when
 * ssl_verify_identity says so; ssl_disabled=true turns TLS off. mysqlclient's
 * ssl_mode (DISABLED … VERIFY_IDENTITY) and ssl=true|false (REQUIRED or
 * DISABLED) may stand instead of the flags. Undefined when it asks for none.
 */
export function mysqlTlsRequest(query: Query, origin: string): TlsRequest | undefined {
  const ca = file(query, 'ssl_ca', origin) ?? file(query, 'ssl_capath', origin, true);
  if (query['ssl_ca'] !== undefined && query['ssl_capath'] !== undefined) {
    throw contradiction(origin, 'has both ssl_ca and ssl_capath', 'Give one of them.');
  }
  const cert = file(query, 'ssl_cert', origin);
  const key = file(query, 'ssl_key', origin);
  const ciphers = query['ssl_cipher'] || undefined;
  const checkHostname = bool(query, 'ssl_check_hostname', origin);
  const verifyCert = bool(query, 'ssl_verify_cert', origin);
  const verifyIdentity = bool(query, 'ssl_verify_identity', origin);
  const disabled = bool(query, 'ssl_disabled', origin);
  const material = { ca, cert, key, ciphers };

  let named = query['ssl_mode'];
  if (query['ssl'] !== undefined) {
    if (named !== undefined) {
      throw contradiction(origin, 'has both ssl and ssl_mode', 'Give ssl_mode alone.');
    }
    named = bool(query, 'ssl', origin) ? 'REQUIRED' : 'DISABLED';
  }
  let mode: TlsMode;
  let verify: TlsVerify;
  if (named !== undefined) {
    const modeParam = query['ssl'] !== undefined ? 'ssl' : 'ssl_mode';
    const flags = ['ssl_disabled', 'ssl_verify_cert', 'ssl_verify_identity', 'ssl_check_hostname'];
    const flag = flags.find((f) => query[f] !== undefined);
    if (flag) {
      throw contradiction(
        origin,
        `has both ${modeParam} and ${flag}`,
        `${modeParam} already says what is verified: drop ${flag}.`,
      );
    }
    const known = MYSQL_MODES[named.toUpperCase()];
    if (!known) {
      throw new BadUrlError(
        `The connection URL from ${origin} has ssl_mode=${named}, which is not a MySQL SSL mode.`,
        `ssl_mode takes ${Object.keys(MYSQL_MODES).join(', ')}.`,
      );
    }
    mode = known.mode;
    // A CA given is used: its certificate chain is verified whatever the mode.
    verify = known.verify ?? (ca ? 'chain' : 'none');
  } else if (disabled) {
    mode = 'disable';
    verify = 'none';
  } else {
    const asked =
      ca !== undefined ||
      cert !== undefined ||
      key !== undefined ||
      ciphers !== undefined ||
      checkHostname !== undefined ||
      verifyCert === true ||
      verifyIdentity === true;
    if (!asked) return undefined;
    if (
      verifyIdentity !== undefined &&
      checkHostname !== undefined &&
      verifyIdentity !== checkHostname
    ) {
      throw contradiction(
        origin,
        'has ssl_verify_identity and ssl_check_hostname disagreeing',
        'Give one of them.',
      );
    }
    // PyMySQL checks the host name with a CA unless told otherwise, but only
    // when ssl_verify_identity says so once ssl_verify_cert is given.
    const host = verifyIdentity ?? checkHostname ?? (ca !== undefined && verifyCert === undefined);
    // Stricter than PyMySQL, which skips a host-name check it was asked for when no CA is given.
    const chain = verifyCert ?? (ca !== undefined || host);
    if (host && !chain) {
      throw contradiction(
        origin,
        'asks for the host name to be checked (ssl_verify_identity or ssl_check_hostname) but not the certificate (ssl_verify_cert=false)',
        'A host name is only worth checking on a verified certificate: drop ssl_verify_cert=false.',
      );
    }
    mode = 'require';
    verify = host ? 'full' : chain ? 'chain' : 'none';
  }
  if (mode === 'disable') {
    const given = [ca?.param, cert?.param, key?.param, ciphers && 'ssl_cipher'].filter(Boolean);
    if (given.length > 0) {
      throw contradiction(
        origin,
        `turns TLS off, yet gives ${given.join(', ')}`,
        'Drop the TLS parameters, or the one that turns TLS off.',
      );
    }
    return { mode, verify };
  }
  return { mode, verify, ...defined(material) };
}

const PG_MODES: Record<string, { mode: TlsMode; verify: TlsVerify }> = {
  disable: { mode: 'disable', verify: 'none' },
  allow: { mode: 'allow', verify: 'none' },
  prefer: { mode: 'prefer', verify: 'none' },
  require: { mode: 'require', verify: 'none' },
  'verify-ca': { mode: 'require', verify: 'chain' },
  'verify-full': { mode: 'require', verify: 'full' },
};

/**
 * The TLS a PostgreSQL URL asks for, with libpq's meaning: sslmode disable,
 * allow, prefer, require (encrypted, unverified), verify-ca (the chain),
 * verify-full (and the host name); a root certificate, from sslrootcert or
 * libpq's default ~/.postgresql/root.crt, also verifies the chain in the
 * modes below verify-ca; sslcert and sslkey are the client's certificate.
 * Without sslmode, libpq's default prefer when another ssl parameter is
 * given; undefined when none is (no TLS, as before these parameters were
 * read). libpq never uses TLS on a Unix socket, nor does this.
 */
export function postgresqlTlsRequest(
  query: Query,
  origin: string,
  overUnixSocket: boolean,
): TlsRequest | undefined {
  const sslmode = query['sslmode'];
  const rootcert = file(query, 'sslrootcert', origin);
  const cert = file(query, 'sslcert', origin);
  const key = file(query, 'sslkey', origin);
  if (sslmode !== undefined && !PG_MODES[sslmode]) {
    throw new BadUrlError(
      `The connection URL from ${origin} has sslmode=${sslmode}, which libpq does not know.`,
      `sslmode takes ${Object.keys(PG_MODES).join(', ')}.`,
    );
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw contradiction(
      origin,
      `has ${cert ? 'sslcert without sslkey' : 'sslkey without sslcert'}`,
      'A client certificate needs both: sslcert=…&sslkey=….',
    );
  }
  if (sslmode === undefined && !rootcert && !cert) return undefined;
  const { mode, verify } = PG_MODES[sslmode ?? 'prefer']!;
  if (mode === 'disable') return { mode, verify };
  if (overUnixSocket) return undefined;
  const ca = rootcert ?? {
    param: 'sslrootcert',
    path: join(homedir(), '.postgresql', 'root.crt'),
    implicit: true,
  };
  return {
    mode,
    verify: rootcert && verify === 'none' ? 'chain' : verify,
    ...defined({ ca, cert, key }),
  };
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A file's text; undefined for libpq's default root certificate when it is absent and nothing needs it. */
function readTlsFile(f: TlsFile, origin: string, needed: boolean): string | undefined {
  try {
    if (!f.directory) return readFileSync(f.path, 'utf8');
    // ssl_capath: every PEM certificate in the directory (OpenSSL's hashed links included).
    const pems = readdirSync(f.path)
      .map((name) => join(f.path, name))
      .filter((p) => statSync(p).isFile())
      .map((p) => readFileSync(p, 'utf8'))
      .filter((text) => text.includes('-----BEGIN CERTIFICATE-----'));
    if (pems.length === 0) {
      throw new ConfigError(
        `The connection URL from ${origin} names the directory ${f.path} in ${setting(f)}, which holds no PEM certificate.`,
        'Point ssl_capath at a directory of PEM CA certificates, or name one file with ssl_ca.',
      );
    }
    return pems.join('\n');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as { code?: unknown }).code;
    if (f.implicit && code === 'ENOENT' && !needed) return undefined;
    const why = unreadableBecause(err);
    if (f.implicit) {
      throw new ConfigError(
        `The connection URL from ${origin} asks for a verified certificate but names no root certificate (sslrootcert); libpq's default is ${f.path}, ${why}.`,
        'Name the CA that signed the server certificate with sslrootcert=/path/to/ca.pem, or use sslmode=require to encrypt without verifying.',
        err,
      );
    }
    const what = f.directory ? 'directory' : 'file';
    throw new ConfigError(
      `The connection URL from ${origin} names the ${what} ${f.path} in ${setting(f)}, ${why}.`,
      `Check the path in ${f.optionFile ? setting(f) : `${f.param}=`}; the ${what} must be readable by the user running placement-upgrade.`,
      err,
    );
  }
}

/**
 * Reads the files a TLS request names, and proves that they hold what they
 * should (PEM certificates, a key that fits its certificate), so that a bad
 * file is a configuration error naming it rather than a handshake failure.
 */
export function readTls(request: TlsRequest, origin: string): TlsOptions {
  const ca = request.ca && readTlsFile(request.ca, origin, request.verify !== 'none');
  // Node skips whatever in a CA file is not a certificate: a file with none would trust nothing, silently.
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(
      `The connection URL from ${origin} names the file ${request.ca!.path} in ${setting(request.ca!)}, which holds no PEM certificate.`,
      `Give ${request.ca!.param} the CA certificate in PEM form (-----BEGIN CERTIFICATE-----).`,
    );
  }
  const cert = request.cert && readTlsFile(request.cert, origin, true);
  const key = request.key && readTlsFile(request.key, origin, true);
  // libpq verifies the chain whenever a root certificate exists, its default one included.
  const verify = ca !== undefined && request.verify === 'none' ? 'chain' : request.verify;
  const options: TlsOptions = {
    verify,
    ...defined({ ca: ca === undefined ? undefined : [ca], cert, key, ciphers: request.ciphers }),
  };
  const files = [request.ca, request.cert, request.key].filter(
    (f): f is TlsFile => f !== undefined && !(f.implicit && ca === undefined),
  );
  try {
    createSecureContext({
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      ciphers: options.ciphers,
    });
  } catch (err) {
    const names = files
      .map(
        (f) =>
          `${f.param}=${f.path}${f.optionFile ? ` ([${f.optionFile.group}] of ${f.optionFile.path})` : ''}`,
      )
      .join(', ');
    throw new ConfigError(
      `The TLS files named by the connection URL from ${origin} (${names || 'none'}${request.ciphers ? `, ssl_cipher=${request.ciphers}` : ''}) cannot be used: ${(err as Error).message}.`,
      'The CA and client certificates must be PEM certificates, the key a PEM private key (without a passphrase) that belongs to the client certificate.',
      err,
    );
  }
  return options;
}

/**
 * The connection attempts a request makes, in order, each TLS options or
 * null for a plain connection: prefer tries TLS then plain, allow plain then
 * TLS, as libpq does; the next is tried only when the server refused the
 * previous one.
 */
export function tlsAttempts(
  request: TlsRequest | undefined,
  origin: string,
): (TlsOptions | null)[] {
  if (!request || request.mode === 'disable') return [null];
  const tls = readTls(request, origin);
  switch (request.mode) {
    case 'require':
      return [tls];
    case 'prefer':
      return [tls, null];
    case 'allow':
      return [null, tls];
  }
}

/** Why a named file could not be read, as the end of a sentence ("…, which does not exist"). */
export function unreadableBecause(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'which does not exist';
    case 'EACCES':
      return 'which cannot be read (permission denied)';
    case 'EISDIR':
      return 'which is a directory';
    case 'ENOTDIR':
      return 'which is not a directory';
    default:
      return `which cannot be read (${String(code ?? err)})`;
  }
}
