/**
 * Every exit code placement-upgrade can end with, in one table, so that the
 * README, `--help` and the error classes cannot disagree.
 *
 * 0–5 keep the meaning they had in placement's mysql-migrate-db.sh, because
 * deployment tools already test for them (3 and 4 are "ok" to them).
 */
export const ExitCode = {
  OK: 0,
  USAGE: 1,
  CONFIG: 2,
  ALREADY_MIGRATED: 3,
  NOTHING_TO_MIGRATE: 4,
  CANNOT_CONNECT: 5,
  BAD_URL: 7,
  UNSUPPORTED_DATABASE: 8,
  AUTH_FAILED: 9,
  DATABASE_MISSING: 10,
  PERMISSION_DENIED: 11,
  SCHEMA_STATE: 12,
  DATA_BLOCKS_UPGRADE: 13,
  LOCKED: 14,
  SOURCE_HAS_NO_PLACEMENT: 20,
  TARGET_HAS_OTHER_DATA: 21,
  VERIFICATION_FAILED: 22,
  COPY_BLOCKED: 23,
  INTERRUPTED_RUN: 24,
  UNFINISHED_MIGRATION: 25,
  ENVIRONMENT: 26,
  WORKLOAD_FAILED: 27,
  CLUSTER_UNAVAILABLE: 28,
  WRITE_SET_TOO_LARGE: 29,
  INTERNAL: 70,
  /** 128 + the signal's number, as shells report a process a signal ended. */
  INTERRUPTED_SIGINT: 130,
  INTERRUPTED_SIGTERM: 143,
} as const;

export type ExitCodeName = keyof typeof ExitCode;
export type ExitCodeValue = (typeof ExitCode)[ExitCodeName];

/** One line of documentation per code, rendered into --help and the README. */
export const EXIT_CODE_DOCS: Record<ExitCodeValue, string> = {
  0: 'success',
  1: 'usage error (unknown flag, bad argument)',
  2: 'configuration missing, incomplete or invalid (no connection given, unreadable config file, a policy file or rule that does not parse)',
  3: 'already migrated (migrate: the target holds exactly the source data, verified)',
  4: 'nothing to migrate (migrate: the source has no placement data)',
  5: 'cannot connect (host unreachable, connection refused, timeout, unknown host, TLS refused or not verified), or the connection was lost during the work (run again to resume)',
  7: 'malformed connection URL',
  8: 'unsupported database scheme or driver',
  9: 'authentication refused by the database server',
  10: 'the named database does not exist (for SQLite: no file at that path, which the message names)',
  11: 'permission denied (connected, but the user lacks a privilege)',
  12: 'schema state refused (tables without a revision, unknown revision, downgrade)',
  13: 'data blocks the schema upgrade (run the online data migrations first)',
  14: "another placement-upgrade run holds the schema lock, or another session held rows or tables the work needed past the server's lock timeout (run again once it is gone)",
  20: 'migrate: the source has no placement tables, or its server has no nova_api database at all (a nova-less cloud)',
  21: "migrate: the target holds data that is not this source's (nothing was written)",
  22: 'verification failed (migrate: rows differ, or nova wrote to the source during the copy; verify: the Placement API does not show what it should)',
  23: 'migrate: source rows the target would refuse (name collisions, orphans under a foreign key)',
  24: 'migrate: the target holds an interrupted run; re-run with --apply to resume it',
  25: 'the placement database holds a migration that has not finished: run the same migrate --apply to finish it (nothing was changed)',
  26: "the database's storage refused the work (disk full, file or directory not writable, database file deleted, database dropped); what was committed stays committed",
  27: "verify --workload: a step of nova's workload failed (the report shows the request and the response that showed it), or, on a live service, objects of the run's own could not be removed",
  28: 'the Galera node is not in the Primary Component or not ready (a node that lost its cluster, or is still joining); what was committed stays committed: run again against a node of the Primary Component to resume',
  29: "a write exceeded the Galera cluster's write-set limits (wsrep_max_ws_rows, wsrep_max_ws_size); what was committed stays committed: lower --batch-size or raise the limits, then run again to resume",
  70: 'internal error (a bug: please report it with the output)',
  130: 'interrupted by SIGINT (Ctrl-C); what was committed stays committed: run again to resume',
  143: 'interrupted by SIGTERM (a playbook timeout, systemd); what was committed stays committed: run again to resume',
};

/** Renders the codes that a command can end with as an oclif help section. */
export function exitCodeHelp(codes: readonly ExitCodeValue[]): string {
  return [...new Set(codes)]
    .sort((a, b) => a - b)
    .map((c) => `  ${String(c).padStart(3)}  ${EXIT_CODE_DOCS[c]}`)
    .join('\n');
}

/** The codes that every command which opens a database can end with. */
export const CONNECTION_EXIT_CODES: readonly ExitCodeValue[] = [
  ExitCode.OK,
  ExitCode.USAGE,
  ExitCode.CONFIG,
  ExitCode.CANNOT_CONNECT,
  ExitCode.BAD_URL,
  ExitCode.UNSUPPORTED_DATABASE,
  ExitCode.AUTH_FAILED,
  ExitCode.DATABASE_MISSING,
  ExitCode.PERMISSION_DENIED,
  ExitCode.ENVIRONMENT,
  ExitCode.CLUSTER_UNAVAILABLE,
  ExitCode.WRITE_SET_TOO_LARGE,
  ExitCode.INTERNAL,
  ExitCode.INTERRUPTED_SIGINT,
  ExitCode.INTERRUPTED_SIGTERM,
];
