import { Flags } from '@oclif/core';
import { availableParallelism } from 'node:os';
import {
  BaseCommand,
  type BaseFlags,
  CONNECTION_HELP,
  connectTimeoutFlag,
  placementConnectionFlags,
} from '../../cli/base-command.js';
import { requireServableSchema } from '../../api/schema-check.js';
import { loadServeConfig } from '../../api/serve-config.js';
import {
  isClusterWorker,
  startWorkerPool,
  workerStopRequested,
  workerStopped,
  MAX_STARTUP_FAILURES,
} from '../../api/cluster.js';
import {
  checkBindAddress,
  probeListen,
  serveApi,
  type AccessLogEntry,
  type ServeOptions,
} from '../../api/server.js';
import { syncStandardData, type StandardSyncResult } from '../../api/standard-sync.js';
import { placementConfigFiles } from '../../config/placement-options.js';
import {
  CONNECTION_EXIT_CODES,
  ExitCode,
  exitCodeHelp,
  type ExitCodeValue,
} from '../../errors/exit-codes.js';
import { redact, registerSecret } from '../../errors/redact.js';

export interface ServeResult {
  url: string;
  /** The alembic revision served (null: placement's tables without a revision). */
  revision: string | null;
  readOnly: boolean;
  requests: number;
  standardSync: { traitsAdded: number; resourceClassesAdded: number } | null;
  /** Processes that served (1: no cluster). */
  workers: number;
}

/** What this command can end with; its --help lists exactly these. */
const EXIT_CODES: readonly ExitCodeValue[] = [
  ...CONNECTION_EXIT_CODES,
  ExitCode.SCHEMA_STATE,
  ExitCode.UNFINISHED_MIGRATION,
];

export default class ApiServe extends BaseCommand {
  static override exitCodes = EXIT_CODES;

  // Stops the server and lets requests in flight finish on SIGTERM/SIGINT (below).
  static override handlesStopSignals = true;

  static override summary =
    'Serve the Placement API (microversions 1.0–1.39) over a placement database.';

  static override description = `An embedded implementation of placement's HTTP API over the placement database on
MySQL/MariaDB, PostgreSQL or SQLite: every route, read and write, /allocation_candidates
included, at every microversion from 1.0 to 1.39, answers as placement 8.0.0 does (bodies,
status codes, version negotiation, error documents, caching headers). Use it to see
migrated data the way nova will see it, and to prove the migrated database takes nova's
writes (inventory reports, claims, moves, reshapes), before placement itself runs.

It is stateless and safe beside other instances, or placement itself, on one database:
every write compares and bumps the provider and consumer generations in one transaction
(409 placement.concurrent_update when another writer got there first), deadlocks are
retried, and nothing is cached between requests.

Authentication is placement's noauth2 mode (X-Auth-Token "admin"; GET / needs none), or,
with --auth-token, that exact token. It listens on 127.0.0.1 and refuses any other address
unless --auth-token is set.

With --read-only it never writes, not even the standard traits and resource classes that
placement inserts at start-up, and refuses writes with 403. Without it, it inserts those at
start-up as placement does.

/allocation_candidates honours placement.conf's [placement] randomize_allocation_candidates
(default false: the same query gives the same order), and, from later placement releases,
max_allocation_candidates (default -1: no bound) and allocation_candidates_generation_strategy
(depth-first, the default, or breadth-first): bounds for wide symmetric trees, whose
combinations 8.0.0 generates in full.

Policy is placement's, enforced as oslo.policy enforces it: placement 8.0.0's default rules,
overridden by the policy file and policy directories that [oslo_policy] names in the
--placement-config files (policy_file, default policy.json; policy_dirs, default policy.d;
a relative name is looked up beside the config files, then in ~/.placement, ~,
/etc/placement, /etc; YAML or JSON), with enforce_scope (default false: a token of the
wrong scope is let through to the rule) and enforce_new_defaults (default false: each base
rule also accepts its deprecated default, role:admin). The caller is who noauth2 says:
X-Auth-Token user[:project], X-Roles, OpenStack-System-Scope (and X-Project-Id,
X-Domain-Id … as keystonemiddleware would set them); the --auth-token holder is a
system-scoped admin. A policy file that changes is reloaded before the next request. A
policy file that does not parse, or a rule that does not, stops it at start-up (exit 2):
placement would not start on the first, and would deny wherever the second applies,
saying so only in its log.

CORS is on when [cors] allowed_origin is set, with placement's defaults for the other [cors]
options (allow_credentials, expose_headers, max_age, allow_methods, allow_headers); it sits
outside authentication, so a preflight needs no token and OPTIONS then always answers 200.

It refuses to start (exit 12) on a database without placement's tables or stamped with a
revision it does not know: create the schema with "db sync" first.

One line per request goes to stderr: client, method, path, status, microversion, time.
SIGTERM or SIGINT stops it cleanly (requests in flight finish).

--workers N (default: the number of cores) serves from N processes, as uwsgi runs
placement in several: node:cluster forks N workers that share the one listening port and
each keep --pool-size connections. Each worker accepts connections itself, so the one free
first takes the next request (NODE_CLUSTER_SCHED_POLICY=rr, given to node, has the first
process hand them out in turn instead). The first process checks the database and syncs the
standard data before it forks, so a database it cannot use ends it with the same message
and exit code as one process would; it prints its start-up lines once, with the workers'
pids. A worker that dies is replaced (a line says which); if ${MAX_STARTUP_FAILURES} replacements in a row
die before they listen, it stops and exits with their exit code (70 when that is not one
listed below). SIGTERM or SIGINT stops every worker cleanly. --workers 1 is one process.

${CONNECTION_HELP}

EXIT CODES
${exitCodeHelp(EXIT_CODES)}`;

  static override examples = [
    {
      description: 'Serve a migrated database read-only on the default port',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --read-only',
    },
    {
      description: 'Then ask it what nova would see',
      command:
        "curl -H 'X-Auth-Token: admin' -H 'OpenStack-API-Version: placement latest' http://127.0.0.1:8778/resource_providers",
    },
    {
      description:
        'Try a stricter policy before deploying it: a second config file (later files win) with [oslo_policy] enforce_scope = true, enforce_new_defaults = true, policy_file = /etc/placement/policy.yaml, and [cors] allowed_origin = https://horizon.example.com',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --placement-config ./strict.conf --read-only',
    },
    {
      description: 'A CORS preflight from that origin (no token needed)',
      command:
        "curl -i -X OPTIONS -H 'Origin: https://horizon.example.com' -H 'Access-Control-Request-Method: GET' http://127.0.0.1:8778/resource_providers",
    },
    {
      description: 'A project reader asking for its own usages (allowed by the default policy)',
      command:
        "curl -H 'X-Auth-Token: alice:p1' -H 'X-Roles: reader' -H 'OpenStack-API-Version: placement 1.9' 'http://127.0.0.1:8778/usages?project_id=p1'",
    },
    {
      description:
        'Serve from 4 processes on port 8778 (what a deployment runs; --workers 1 is one process)',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --workers 4',
    },
    {
      description: 'Listen beyond loopback, with a token',
      command:
        'PLACEMENT_UPGRADE_API_TOKEN=s3cret <%= config.bin %> <%= command.id %> --placement-url sqlite:////var/lib/placement/placement.sqlite --host 0.0.0.0 --read-only',
    },
  ];

  static override flags = {
    workers: Flags.integer({
      summary: 'Processes serving the one port (1: no cluster).',
      default: availableParallelism(),
      // The same help on every machine: the count is this machine's.
      defaultHelp: async () => 'one per core',
      min: 1,
    }),
    ...placementConnectionFlags(),
    host: Flags.string({
      summary: 'Address to listen on; anything but loopback needs --auth-token.',
      default: '127.0.0.1',
    }),
    port: Flags.integer({
      summary: 'TCP port (0 picks a free one).',
      default: 8778,
      min: 0,
      max: 65535,
    }),
    'read-only': Flags.boolean({
      summary: 'Never write: no start-up sync of standard traits/classes, writes refused with 403.',
      default: false,
    }),
    'auth-token': Flags.string({
      summary:
        'Require this X-Auth-Token (its holder is admin); prefer the environment variable to argv.',
      env: 'PLACEMENT_UPGRADE_API_TOKEN',
      helpValue: 'TOKEN',
    }),
    'pool-size': Flags.integer({
      summary: 'Database connections to keep (SQLite always uses one).',
      default: 10,
      min: 1,
    }),
    'connect-timeout': connectTimeoutFlag,
  };

  /** A worker of --workers prints no result: the primary speaks for the pool. */
  override jsonEnabled(): boolean {
    return !isClusterWorker() && super.jsonEnabled();
  }

  async run(): Promise<ServeResult> {
    const { flags } = await this.parse(ApiServe);
    registerSecret(flags['auth-token']);
    // Policy and CORS first: a broken policy file should not wait for a database.
    const config = loadServeConfig(
      placementConfigFiles(flags['placement-config']),
      (notices, error) => {
        if (error) this.note(`Policy reload failed (the rules in force stay): ${error.message}`);
        else {
          this.note('Policy reloaded: a policy file changed.');
          for (const n of notices) this.note(`Policy ${n.severity}: ${n.message}`);
        }
      },
    );
    if (isClusterWorker()) return this.serveAsWorker(flags, config);
    for (const warning of config.policy.warnings) this.note(`Policy warning: ${warning}`);
    if (flags.workers > 1) return this.serveWithWorkers(flags, config);
    // A read-only server must not create a SQLite file; the check below needs the schema anyway.
    const db = await this.openPlacement(flags, {
      max: flags['pool-size'],
      mustExist: true,
      // Reads as placement's own service does: no wait for the cluster on every request.
      causalReads: false,
    });
    const access = accessLog();
    try {
      const schema = await requireServableSchema(db);
      const running = await serveApi(db, serveOptions(flags, config, access.log));
      this.startupLines(config, running.standardSync);
      this.listeningLine(flags, db.display, schema.revision, running.url, '');
      await stopSignal();
      process.stderr.write('Stopping: finishing requests in flight.\n');
      await running.close();
      return {
        url: running.url,
        revision: schema.revision,
        readOnly: flags['read-only'],
        requests: access.count(),
        standardSync: running.standardSync,
        workers: 1,
      };
    } finally {
      await db.close();
    }
  }

  /**
   * The primary of --workers: checks the database as one process would
   * (same errors, same exit codes), syncs the standard data once, then
   * forks the workers and speaks for them.
   */
  private async serveWithWorkers(flags: ServeFlags, config: ServeConfig): Promise<ServeResult> {
    checkBindAddress(flags.host, flags['auth-token']);
    await probeListen(flags.host, flags.port);
    const db = await this.openPlacement(flags, { max: 1, mustExist: true });
    let schema: { revision: string | null };
    let standardSync: StandardSyncResult | null;
    try {
      schema = await requireServableSchema(db);
      standardSync = flags['read-only'] ? null : await syncStandardData(db);
    } finally {
      await db.close();
    }
    const pool = await startWorkerPool({
      workers: flags.workers,
      knownExitCodes: EXIT_CODES,
      onEvent: (e) => {
        if (e.type === 'worker-died') {
          const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
          this.note(`Worker ${e.pid} ${how}.`);
        } else this.note(`Started worker ${e.replacement} in place of worker ${e.pid}.`);
      },
    });
    this.startupLines(config, standardSync);
    this.listeningLine(
      flags,
      db.display,
      schema.revision,
      pool.url,
      ` with ${flags.workers} workers (pids ${pool.pids().join(', ')})`,
    );
    try {
      await Promise.race([stopSignal(), pool.failed]);
    } catch (err) {
      await pool.stop();
      throw err;
    }
    process.stderr.write('Stopping: finishing requests in flight.\n');
    const { requests } = await pool.stop();
    return {
      url: pool.url,
      revision: schema.revision,
      readOnly: flags['read-only'],
      requests,
      standardSync,
      workers: flags.workers,
    };
  }

  /** One worker of --workers: serves until the primary (or a stop signal) says stop. */
  private async serveAsWorker(flags: ServeFlags, config: ServeConfig): Promise<ServeResult> {
    const db = await this.openPlacement(flags, {
      max: flags['pool-size'],
      mustExist: true,
      // Reads as placement's own service does: no wait for the cluster on every request.
      causalReads: false,
    });
    const access = accessLog();
    try {
      const running = await serveApi(db, {
        ...serveOptions(flags, config, access.log),
        standardDataSynced: true,
      });
      await workerStopRequested();
      await running.close();
      return {
        url: running.url,
        revision: null,
        readOnly: flags['read-only'],
        requests: access.count(),
        standardSync: null,
        workers: 1,
      };
    } finally {
      await db.close();
      await workerStopped(access.count());
    }
  }

  private startupLines(config: ServeConfig, standardSync: StandardSyncResult | null): void {
    if (standardSync) {
      this.note(
        `Standard data synced: ${standardSync.traitsAdded} traits, ${standardSync.resourceClassesAdded} resource classes added.`,
      );
    }
    this.note(config.policySummary);
    if (config.cors) this.note(`CORS: allowed origins ${config.cors.allowedOrigins.join(', ')}.`);
  }

  private listeningLine(
    flags: ServeFlags,
    display: string,
    revision: string | null,
    url: string,
    workers: string,
  ): void {
    process.stderr.write(
      `Placement API on ${display} ${revision ? `at revision ${revision}` : 'without an alembic revision'}${flags['read-only'] ? ' (read-only)' : ''} listening on ${url}${workers}\n`,
    );
  }
}

type ServeFlags = BaseFlags<typeof ApiServe>;
type ServeConfig = ReturnType<typeof loadServeConfig>;

/** Counts requests and writes one access-log line per request to stderr. */
function accessLog(): { log: (e: AccessLogEntry) => void; count: () => number } {
  let requests = 0;
  return {
    log: (e) => {
      requests += 1;
      process.stderr.write(
        redact(
          `${e.remote} "${e.method} ${e.path}" status: ${e.status} microversion: ${e.microversion} time: ${e.ms}ms ${e.requestId}\n`,
        ),
      );
    },
    count: () => requests,
  };
}

function serveOptions(
  flags: ServeFlags,
  config: ServeConfig,
  onRequest: (e: AccessLogEntry) => void,
): ServeOptions {
  return {
    host: flags.host,
    port: flags.port,
    readOnly: flags['read-only'],
    authToken: flags['auth-token'],
    policy: config.policy.enforcer,
    cors: config.cors,
    settings: config.settings,
    onRequest,
  };
}

function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}
