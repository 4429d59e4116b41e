import { Flags } from '@oclif/core';
import {
  BaseCommand,
  CONNECTION_HELP,
  connectTimeoutFlag,
  lockTimeoutFlag,
} from '../cli/base-command.js';
import { MigrateProgress } from '../cli/migrate-progress.js';
import { fmt, renderTable } from '../cli/table.js';
import { ROLES } from '../config/connections.js';
import { placementConfigFiles, readPlacementOptions } from '../config/placement-options.js';
import { readRcConnections, writeRcTemplate } from '../config/rc-file.js';
import { SAMPLE_SOURCE_NAME } from '../config/sample-source.js';
import { migrate, type MigrateResult } from '../copy/migrate.js';
import { DEFAULT_BATCH_ROWS, STREAM_CHUNK_ROWS } from '../copy/outcome.js';
import { sourceOpenError } from '../copy/source.js';
import type { Database } from '../db/connect.js';
import { UsageError } from '../errors/errors.js';
import { ExitCode, exitCodeHelp, type ExitCodeValue } from '../errors/exit-codes.js';
import { COPY_ORDER } from '../copy/tables.js';
import { count } from '../text/count.js';

/** What migrate can end with; its --help lists exactly these. */
const EXIT_CODES: readonly ExitCodeValue[] = [
  ExitCode.OK,
  ExitCode.USAGE,
  ExitCode.CONFIG,
  ExitCode.ALREADY_MIGRATED,
  ExitCode.NOTHING_TO_MIGRATE,
  ExitCode.CANNOT_CONNECT,
  ExitCode.BAD_URL,
  ExitCode.UNSUPPORTED_DATABASE,
  ExitCode.AUTH_FAILED,
  ExitCode.DATABASE_MISSING,
  ExitCode.PERMISSION_DENIED,
  ExitCode.SCHEMA_STATE,
  ExitCode.DATA_BLOCKS_UPGRADE,
  ExitCode.LOCKED,
  ExitCode.SOURCE_HAS_NO_PLACEMENT,
  ExitCode.TARGET_HAS_OTHER_DATA,
  ExitCode.VERIFICATION_FAILED,
  ExitCode.COPY_BLOCKED,
  ExitCode.INTERRUPTED_RUN,
  ExitCode.ENVIRONMENT,
  ExitCode.INTERNAL,
  ExitCode.INTERRUPTED_SIGINT,
  ExitCode.INTERRUPTED_SIGTERM,
];

/** What the target holds, in words (--json keeps the state's name). */
const TARGET_STATES: Readonly<Record<string, string>> = {
  empty: 'empty',
  'empty-schema': "placement's schema, no rows",
  'startup-rows-only':
    'only the rows a placement service writes when it starts (standard traits and resource classes)',
  interrupted: 'an interrupted run',
  populated: 'placement data',
};

const SAMPLE_HINT = `To try the bundled sample nova_api from any directory: --source ${SAMPLE_SOURCE_NAME}.`;

/** How the copy path is named in the run's report. */
const COPY_PATH_WORDS = {
  'server-side': 'inside the server',
  'copy-stream': 'COPY streams',
  rows: 'through placement-upgrade',
} as const;

export default class Migrate extends BaseCommand {
  static override exitCodes = EXIT_CODES;

  static override summary =
    "Copy placement's tables out of nova_api into placement's own database, and verify them.";

  static override description = `Plans by default and writes nothing: connects to both databases, recognises the
source's release (Newton … today), counts rows, finds what old clouds carry (providers
without root, allocations without consumers, orphans, can_host, latin1 tables, names the
target's collation would merge) and says what the target holds. With --apply it creates
placement's schema, copies the eleven tables keeping every id (in batches that each commit,
resumable after a crash), advances id sequences, verifies every table (row counts and a
checksum of every row; into PostgreSQL, of the COPY text loaded), then runs the online
data migrations and upgrades the schema to --revision. MySQL/MariaDB, PostgreSQL and
SQLite on either side.

The source is read in one consistent snapshot (never LOCK TABLES, so Galera and Percona
clusters are fine); if nova writes to it during the copy, verification fails: stop
nova-placement-api first. No client programs (mysqldump, psql) are needed.

When nova_api and placement are on one MySQL/MariaDB server or Galera cluster (proved
by the server: a named lock seen from both connections, or one cluster state uuid) and
the target's user may SELECT from nova_api, the rows never leave the server: each key
range is copied by INSERT … SELECT in committed batches and verified by checksums the
server computes on both sides. From PostgreSQL to PostgreSQL the rows travel as COPY
text (COPY … TO STDOUT piped into COPY … FROM STDIN, in committed chunks of 50,000
rows, or --batch-size), hashed as they pass and verified by hashing the target's COPY text of the same
ranges. The run says which path it took (--json: copyPath); --no-fast-path sends every
row through placement-upgrade instead.

The source is the nova_api database: --source, PLACEMENT_UPGRADE_NOVA_URL, --rc, or
[api_database] connection of --nova-config. The target is placement's: --target,
PLACEMENT_UPGRADE_PLACEMENT_URL, --rc, or [placement_database] connection of
--placement-config. --rc FILE reads the upstream mysql-migrate-db.sh variables
(NOVA_API_DB, NOVA_API_USER, NOVA_API_PASS, NOVA_API_DB_HOST, PLACEMENT_DB, …,
MIGRATE_TABLES); "--rc -" reads them from the environment; --mkconfig FILE writes a
template (mode 0600).

${CONNECTION_HELP}

EXIT CODES (0, 3 and 4 mean "nothing left to do" to a playbook)
${exitCodeHelp(EXIT_CODES)}
A missing source database exits 20 (a nova-less cloud), not 10.`;

  static override examples = [
    {
      description: 'See the plan for the bundled sample (nothing is written)',
      command:
        '<%= config.bin %> <%= command.id %> --source sample --target sqlite:///placement.sqlite',
    },
    {
      description: 'Copy, verify and finish at the schema a Zed placement knows',
      command:
        '<%= config.bin %> <%= command.id %> --nova-config /etc/nova/nova.conf --placement-config /etc/placement/placement.conf --apply --revision zed',
    },
    {
      description: "A playbook using the upstream script's rc variables from the environment",
      command:
        'NOVA_API_PASS=... PLACEMENT_PASS=... <%= config.bin %> <%= command.id %> --rc - --apply --json',
    },
    {
      description: 'MariaDB to PostgreSQL',
      command:
        '<%= config.bin %> <%= command.id %> --source mysql+pymysql://nova@db1/nova_api --target postgresql://placement@db2/placement --apply',
    },
  ];

  static override flags = {
    source: Flags.string({
      summary: `nova_api database URL, or "${SAMPLE_SOURCE_NAME}" for the bundled sample. Env: ${ROLES.nova.urlEnv}.`,
      helpValue: 'URL',
    }),
    'nova-config': Flags.string({
      summary: `nova.conf to read [api_database] connection from; repeatable. Env: ${ROLES.nova.configEnv}.`,
      multiple: true,
      helpValue: 'FILE',
    }),
    target: Flags.string({
      summary: `placement database URL. Env: ${ROLES.placement.urlEnv}.`,
      helpValue: 'URL',
    }),
    'placement-config': Flags.string({
      summary: `placement.conf to read [placement_database] connection from; repeatable. Env: ${ROLES.placement.configEnv}.`,
      multiple: true,
      helpValue: 'FILE',
    }),
    rc: Flags.string({
      summary:
        'Upstream migrate-db rc file with NOVA_API_* / PLACEMENT_* variables; "-" for the environment.',
      helpValue: 'FILE',
    }),
    'rc-engine': Flags.string({
      summary: 'Database type the rc file describes.',
      options: ['mysql', 'postgresql'],
      default: 'mysql',
    }),
    mkconfig: Flags.string({
      summary: 'Write an rc file template (mode 0600) and exit.',
      helpValue: 'FILE',
      exclusive: ['apply'],
    }),
    apply: Flags.boolean({
      summary: 'Write: create the schema, copy, verify, finish. Without it, only plan.',
      default: false,
    }),
    tables: Flags.string({
      summary: `Copy only these tables (comma separated): ${COPY_ORDER.join(', ')}.`,
      delimiter: ',',
      multiple: true,
    }),
    revision: Flags.string({
      summary: 'Schema revision or placement release to finish at.',
      default: 'head',
      helpValue: 'REV',
    }),
    'batch-size': Flags.integer({
      summary: `Rows per INSERT, or per COPY chunk (each commits on its own; keep Galera write sets small). Default ${DEFAULT_BATCH_ROWS.toLocaleString('en-US')}; ${STREAM_CHUNK_ROWS.toLocaleString('en-US')} a chunk on the COPY-stream path.`,
      min: 1,
      max: 50000,
    }),
    parallel: Flags.integer({
      summary:
        'Writers at once: tables, and key ranges of large tables, each on its own target connection (SQLite: always 1).',
      default: 4,
      min: 1,
      max: 16,
    }),
    'bulk-min-rows': Flags.integer({
      summary:
        'Tables with at least this many rows are loaded in bulk (key ranges, indexes built after the copy).',
      default: 50_000,
      min: 1,
      hidden: true,
    }),
    'fast-path': Flags.boolean({
      summary:
        'Copy inside the server when nova_api and placement share one MySQL/MariaDB server or Galera cluster, as COPY streams between PostgreSQL servers (--no-fast-path: every row through placement-upgrade).',
      default: true,
      allowNo: true,
    }),
    'skip-orphans': Flags.boolean({
      summary:
        'Leave behind provider-trait links to missing rows, and NULL provider references to missing providers, instead of stopping.',
      default: false,
    }),
    restart: Flags.boolean({
      summary: 'With --apply on an interrupted run: empty its tables and copy again.',
      // Checked in run(), not with dependsOn: oclif's usage line drops a
      // dependency that is also in an exclusive group ("[--restart ]").
      default: false,
    }),
    'allow-other-tables': Flags.boolean({
      summary:
        "Accept a target that holds tables other than placement's (refused by default: it is probably the wrong database).",
      default: false,
    }),
    'max-differences': Flags.integer({
      summary: 'Differing rows to report per table (--json reports this many too).',
      default: 20,
      min: 1,
    }),
    'lock-timeout': lockTimeoutFlag,
    'connect-timeout': connectTimeoutFlag,
  };

  async run(): Promise<MigrateResult | { wrote: string }> {
    const { flags } = await this.parse(Migrate);
    if (flags.restart && !flags.apply) {
      throw new UsageError(
        "--restart empties an interrupted run's tables, so it needs --apply.",
        'Run with --apply --restart, or leave --restart out to see the plan.',
      );
    }
    if (flags.mkconfig) {
      writeRcTemplate(flags.mkconfig);
      this.say(
        `Wrote ${flags.mkconfig} (mode 0600). Fill in the passwords, then: placement-upgrade migrate --rc ${flags.mkconfig}`,
      );
      return { wrote: flags.mkconfig };
    }
    const rc = flags.rc
      ? readRcConnections(flags.rc, flags['rc-engine'] as 'mysql' | 'postgresql')
      : undefined;
    let source: Database;
    try {
      source = await this.open(
        'nova',
        {
          url: flags.source,
          urlFlagName: '--source',
          config: flags['nova-config'],
          connectTimeout: flags['connect-timeout'],
          fallback: rc?.source,
        },
        { max: 1, mustExist: true },
      );
    } catch (err) {
      throw sourceOpenError(err, SAMPLE_HINT);
    }
    let target: Database | undefined;
    try {
      target = await this.open(
        'placement',
        {
          url: flags.target,
          urlFlagName: '--target',
          config: flags['placement-config'],
          connectTimeout: flags['connect-timeout'],
          fallback: rc?.target,
        },
        { max: 1 },
      );
      const placementOptions = readPlacementOptions(
        placementConfigFiles(flags['placement-config']),
      );
      const mode = this.jsonEnabled() ? 'silent' : process.stderr.isTTY ? 'tty' : 'plain';
      const progress = new MigrateProgress(mode, (line) => this.note(line));
      this.note(`Source (nova_api): ${source.display}`);
      this.note(`Target (placement): ${target.display}`);
      const t = target;
      const result = await progress.run(flags.apply ? 'Migrating placement data' : 'Planning', () =>
        migrate(source, t, {
          apply: flags.apply,
          batchSize: flags['batch-size'] ?? DEFAULT_BATCH_ROWS,
          streamChunkRows: flags['batch-size'],
          tables: flags.tables ?? rc?.tables,
          skipOrphans: flags['skip-orphans'],
          restart: flags.restart,
          allowOtherTables: flags['allow-other-tables'],
          revision: flags.revision,
          maxDifferences: flags['max-differences'],
          lockTimeoutSeconds: flags['lock-timeout'],
          parallel: flags.parallel,
          bulkMinRows: flags['bulk-min-rows'],
          connectTimeoutSeconds: flags['connect-timeout'],
          fastPath: flags['fast-path'],
          onProgress: progress.listener,
          // migrate has no flags for these (it read two that do not exist,
          // which compiled until flags were typed): placement.conf's options.
          incompleteConsumer: {
            projectId: placementOptions.incompleteConsumerProjectId,
            userId: placementOptions.incompleteConsumerUserId,
          },
        }),
      );
      this.report(result);
      process.exitCode = result.exitCode;
      return result;
    } finally {
      await source.close();
      await target?.close();
    }
  }

  private report(r: MigrateResult): void {
    if (this.jsonEnabled()) return;
    this.say(
      `Source: ${r.source.url} — placement tables of a ${r.source.release} nova_api${r.source.novaSchemaVersion ? ` (schema version ${r.source.novaSchemaVersion})` : ''}; ${count(r.source.otherTables.length, 'other table')} left alone`,
    );
    this.say(
      `Target: ${r.target.url} — ${TARGET_STATES[r.target.state] ?? r.target.state}${r.target.revision ? ` at ${r.target.revision}` : ''}`,
    );
    if (r.tables.length > 0) {
      this.say('');
      this.say(
        renderTable(
          ['table', 'source rows', 'target rows', 'action'],
          r.tables.map((t) => [t.table, fmt(t.sourceRows), fmt(t.targetRows), t.action]),
          ['left', 'right', 'right', 'left'],
        ),
      );
    }
    if (r.conditions.length > 0) {
      this.say('');
      this.say('Conditions found in the source:');
      for (const c of r.conditions) {
        this.say(`  [${c.severity}] ${c.message}`);
        if (c.examples?.length) this.say(`      e.g. ${c.examples.slice(0, 5).join('; ')}`);
        if (c.hint) this.say(`      ${c.hint}`);
      }
    }
    if (r.copied.length > 0) {
      this.say('');
      if (r.copyPath) {
        this.say(`Copy path: ${COPY_PATH_WORDS[r.copyPath.path]} — ${r.copyPath.reason}`);
      }
      this.say(
        renderTable(
          ['copied', 'rows', 'seconds', 'rows/s', 'resumed after'],
          r.copied.map((c) => [
            c.table,
            fmt(c.rows),
            (c.ms / 1000).toFixed(1),
            fmt(c.ms > 0 ? Math.round((c.rows * 1000) / c.ms) : c.rows),
            c.resumedAfter ?? '',
          ]),
          ['left', 'right', 'right', 'right', 'left'],
        ),
      );
    }
    if (r.verification.length > 0) {
      this.say('');
      this.say(
        renderTable(
          ['verified', 'source rows', 'target rows', 'checksum', 'result'],
          r.verification.map((v) => [
            v.table,
            fmt(v.sourceRows),
            fmt(v.targetRows),
            v.sourceChecksum,
            v.equal
              ? `equal${v.toleratedExtras ? ` (+${v.toleratedExtras} placement rows)` : ''}`
              : `${v.differenceCount} differ`,
          ]),
          ['left', 'right', 'right', 'left', 'left'],
        ),
      );
      for (const v of r.verification.filter((x) => !x.equal)) {
        for (const d of v.differences.slice(0, 5)) {
          this.say(
            `  ${v.table} ${d.key}: ${d.kind}${d.source ? ` source=${d.source}` : ''}${d.target ? ` target=${d.target}` : ''}`,
          );
        }
      }
    }
    if (r.finish?.onlineMigrations) {
      this.say('');
      for (const m of r.finish.onlineMigrations.migrations) {
        this.say(`Online data migration ${m.name}: ${fmt(m.found)} found, ${fmt(m.done)} migrated`);
      }
    }
    if (r.finish?.schema) {
      this.say('');
      const { from, to } = r.finish.schema;
      // A rerun that found the schema where it was asked to be says so, not "X → X".
      this.say(from === to ? `Schema: already at ${to}` : `Schema: ${from ?? 'empty'} → ${to}`);
    }
    this.say('');
    this.say(r.message);
    if (r.hint) this.say(r.hint);
  }
}
