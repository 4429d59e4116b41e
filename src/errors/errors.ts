import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * The one error type the core throws. It carries what an operator needs:
 * a one-paragraph message, a hint for what to do next, and the exit code.
 * `code` is a stable machine name for --json consumers.
 */
export class PlacementUpgradeError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly code: string;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    exitCode: ExitCodeValue,
    message: string,
    options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlacementUpgradeError';
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details;
  }
}

export class UsageError extends PlacementUpgradeError {
  constructor(message: string, hint?: string) {
    super('usage', ExitCode.USAGE, message, { hint });
  }
}

export class ConfigError extends PlacementUpgradeError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super('config', ExitCode.CONFIG, message, { hint, cause });
  }
}

export class BadUrlError extends PlacementUpgradeError {
  constructor(message: string, hint?: string) {
    super('bad_url', ExitCode.BAD_URL, message, { hint });
  }
}

export class UnsupportedDatabaseError extends PlacementUpgradeError {
  constructor(message: string, hint?: string) {
    super('unsupported_database', ExitCode.UNSUPPORTED_DATABASE, message, { hint });
  }
}

/** Why a connection attempt failed, as the operator would put it. */
/** lost: connected, then the session ended during the work (the server closed it, restarted, killed it). */
/** not_a_database: the named file exists but is not a database this tool reads (a text file for a SQLite URL). */
/** tls: the TLS handshake failed, or the server and the URL disagree on TLS (see TlsConnectionError). */
export type ConnectFailure =
  | 'unreachable'
  | 'tls'
  | 'auth'
  | 'database_missing'
  | 'permission'
  | 'lost'
  | 'not_a_database'
  | 'unknown';

const CONNECT_EXIT: Record<ConnectFailure, ExitCodeValue> = {
  unreachable: ExitCode.CANNOT_CONNECT,
  tls: ExitCode.CANNOT_CONNECT,
  auth: ExitCode.AUTH_FAILED,
  database_missing: ExitCode.DATABASE_MISSING,
  permission: ExitCode.PERMISSION_DENIED,
  lost: ExitCode.CANNOT_CONNECT,
  not_a_database: ExitCode.UNSUPPORTED_DATABASE,
  unknown: ExitCode.CANNOT_CONNECT,
};

export class ConnectionError extends PlacementUpgradeError {
  readonly failure: ConnectFailure;
  constructor(
    failure: ConnectFailure,
    message: string,
    hint?: string,
    cause?: unknown,
    details?: Record<string, unknown>,
  ) {
    super(`connect_${failure}`, CONNECT_EXIT[failure], message, { hint, cause, details });
    this.failure = failure;
  }
}

/**
 * What went wrong with TLS: the server offers none though the URL requires
 * it (unsupported), requires it though the URL asks for none (required), its
 * certificate does not chain to a trusted CA (untrusted), does not name the
 * host connected to (hostname), is outside its validity period (expired), or
 * the handshake failed otherwise (handshake).
 */
export type TlsProblem =
  'unsupported' | 'required' | 'untrusted' | 'hostname' | 'expired' | 'handshake';

/** A connection that failed over TLS: exit 5, code connect_tls, and details.tls names the problem. */
export class TlsConnectionError extends ConnectionError {
  readonly problem: TlsProblem;
  constructor(problem: TlsProblem, message: string, hint: string, cause?: unknown) {
    super('tls', message, hint, cause, { tls: problem });
    this.problem = problem;
  }
}

export class SchemaStateError extends PlacementUpgradeError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super('schema_state', ExitCode.SCHEMA_STATE, message, { hint, details });
  }
}

export class DataBlocksUpgradeError extends PlacementUpgradeError {
  constructor(message: string, hint: string, details?: Record<string, unknown>) {
    super('data_blocks_upgrade', ExitCode.DATA_BLOCKS_UPGRADE, message, { hint, details });
  }
}

export class LockedError extends PlacementUpgradeError {
  constructor(message: string, hint?: string) {
    super('locked', ExitCode.LOCKED, message, { hint });
  }
}

/** Wraps anything that is not already typed, so the CLI has one shape to render. */
/** Longest error message shown whole. */
const MAX_MESSAGE = 600;

/**
 * An error's message as an operator can read it: knex prefixes driver
 * errors with the whole statement ("<SQL> - <message>"), which says nothing
 * to an operator (and a batch insert's holds its rows), so only the
 * driver's message is kept; anything still overlong is cut in the middle.
 */
export function errorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const driver =
    /^\s*(?:select|insert|update|delete|with|alter|create|drop|copy)\b[\s\S]* - ([^\n]+)$/i.exec(
      message,
    );
  const text = driver ? driver[1]! : message;
  if (text.length <= MAX_MESSAGE) return text;
  return `${text.slice(0, 200)} … [${text.length - 500} characters omitted] … ${text.slice(-300)}`;
}

export function asPlacementUpgradeError(err: unknown): PlacementUpgradeError {
  if (err instanceof PlacementUpgradeError) return err;
  const message = errorMessage(err);
  return new PlacementUpgradeError('internal', ExitCode.INTERNAL, message, {
    cause: err,
    hint: 'This is a bug in placement-upgrade. Re-run with DEBUG=placement-upgrade* and report the output.',
  });
}

/** The database's storage refused the work: disk full, not writable, dropped or deleted (exit 26). */
export class StorageFaultError extends PlacementUpgradeError {
  constructor(message: string, hint: string, cause?: unknown) {
    super('storage_fault', ExitCode.ENVIRONMENT, message, { hint, cause });
  }
}

/**
 * A Galera cluster refused the work: the node is outside the Primary
 * Component or not ready (exit 28), or a write set broke the cluster's
 * limits (exit 29).
 */
export class ClusterError extends PlacementUpgradeError {
  constructor(
    readonly kind: 'not_primary' | 'write_set_too_large',
    message: string,
    hint: string,
    cause?: unknown,
  ) {
    super(
      kind === 'not_primary' ? 'galera_not_primary' : 'galera_write_set_too_large',
      kind === 'not_primary' ? ExitCode.CLUSTER_UNAVAILABLE : ExitCode.WRITE_SET_TOO_LARGE,
      message,
      { hint, cause },
    );
  }

  /** The message with what the node says of itself appended (its name, cluster status, state). */
  withNodeState(state: string): ClusterError {
    if (!state) return this;
    return new ClusterError(this.kind, `${this.message} ${state}`, this.hint ?? '', this.cause);
  }
}

export class PermissionDeniedError extends PlacementUpgradeError {
  constructor(message: string, hint: string, cause?: unknown) {
    super('permission_denied', ExitCode.PERMISSION_DENIED, message, { hint, cause });
  }
}
