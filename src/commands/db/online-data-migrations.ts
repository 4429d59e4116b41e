import { Flags } from '@oclif/core';
import {
  BaseCommand,
  CONNECTION_HELP,
  connectTimeoutFlag,
  placementConnectionFlags,
} from '../../cli/base-command.js';
import { PLUGIN_HELP, pluginFlags } from '../../cli/plugin-flags.js';
import { placementConfigFiles, readPlacementOptions } from '../../config/placement-options.js';
import { onlineDataMigrations } from '../../data-migrations/registry.js';
import { loadPlugins, pluginSources } from '../../plugins/load.js';
import {
  DEFAULT_BATCH_SIZE,
  DataMigrationExit,
  parseMaxCount,
  runOnlineDataMigrations,
  type DataMigrationRun,
} from '../../data-migrations/runner.js';
import { DEFAULT_INCOMPLETE_CONSUMER_ID } from '../../data-migrations/types.js';
import { UsageError, type PlacementUpgradeError } from '../../errors/errors.js';
import { EXIT_CODE_DOCS, ExitCode } from '../../errors/exit-codes.js';
import type { ProgressEvent } from '../../progress/events.js';
import { prettyTable } from '../../text/pretty-table.js';

const code = (n: number, text: string) => `  ${String(n).padStart(3)}  ${text}`;

/** placement-upgrade's own codes that this command keeps (connections, interruptions). */
const OWN_CODES = [
  ExitCode.CANNOT_CONNECT,
  ExitCode.BAD_URL,
  ExitCode.UNSUPPORTED_DATABASE,
  ExitCode.AUTH_FAILED,
  ExitCode.DATABASE_MISSING,
  ExitCode.PERMISSION_DENIED,
  ExitCode.UNFINISHED_MIGRATION,
  ExitCode.ENVIRONMENT,
  ExitCode.INTERNAL,
  ExitCode.INTERRUPTED_SIGINT,
  ExitCode.INTERRUPTED_SIGTERM,
] as const;

export default class DbOnlineDataMigrations extends BaseCommand {
  static override exitCodes = [...Object.values(DataMigrationExit), ...OWN_CODES];

  static override summary =
    'Run the online data migrations, as "placement-manage db online_data_migrations" does.';

  static override description = `Runs placement's online data migrations in order: set_root_provider_ids (providers created before Queens get root_provider_id = id, or their parent's root if they have a parent; providers whose parents form a cycle are reported, never guessed) and create_incomplete_consumers (one consumers row, owned by the "incomplete consumer" project and user, for every allocations.consumer_id without one). Train's schema (db sync past 611cd6dffd7b and b5c396305c25) refuses the database until they have run.

The algorithm, output and exit codes are placement-manage's, batch by batch: without --max-count, batches of ${DEFAULT_BATCH_SIZE} until a batch migrates nothing; with it, one batch of that size; each batch takes as many rows as placement-manage's (the batch size, or all that are left), so the lines printed and the exit codes are the same on the same database. Each batch commits on its own, so the command can be interrupted and run again; two runs at the same time create no duplicate rows and both finish.

The incomplete consumer's project and user ids come from the --incomplete-consumer-project-id and --incomplete-consumer-user-id flags, else the [placement] incomplete_consumer_project_id and incomplete_consumer_user_id options of --placement-config, else ${DEFAULT_INCOMPLETE_CONSUMER_ID}.

${CONNECTION_HELP}

${PLUGIN_HELP}

EXIT CODES (placement-manage's, which playbooks retry on)
${code(DataMigrationExit.COMPLETE, 'nothing (further) to migrate')}
${code(DataMigrationExit.MORE_MAY_REMAIN, 'only with --max-count: rows were migrated, more may remain')}
${code(DataMigrationExit.FAILED, 'a migration failed or found rows it cannot fix, nothing else')}
       progressed; also a configuration missing or unreadable
${code(DataMigrationExit.BAD_MAX_COUNT, '--max-count is not a positive integer; any usage error')}
Connection failures and interruptions keep placement-upgrade's own codes, never a migration result:
${OWN_CODES.map((c) => code(c, EXIT_CODE_DOCS[c])).join('\n')}`;

  static override examples = [
    {
      description: 'As placement-manage does it: batches of 50 until complete',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf',
    },
    {
      description: 'One batch of 1000 rows; exit 1 means "run me again"',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --max-count 1000',
    },
    {
      description: 'The result as JSON, on a SQLite file',
      command:
        '<%= config.bin %> <%= command.id %> --placement-url sqlite:///placement.sqlite --json',
    },
  ];

  static override flags = {
    ...placementConnectionFlags(),
    'max-count': Flags.string({
      summary: 'Run one batch of at most this many rows instead of batches of 50 until complete.',
      helpValue: 'N',
    }),
    'incomplete-consumer-project-id': Flags.string({
      summary: `External id of the project that owns incomplete consumers (default: [placement] option, else ${DEFAULT_INCOMPLETE_CONSUMER_ID}).`,
      helpValue: 'ID',
    }),
    'incomplete-consumer-user-id': Flags.string({
      summary: `External id of the user that owns incomplete consumers (default: [placement] option, else ${DEFAULT_INCOMPLETE_CONSUMER_ID}).`,
      helpValue: 'ID',
    }),
    'connect-timeout': connectTimeoutFlag,
    ...pluginFlags(),
  };

  /** Usage errors exit 127 ("invalid input"), as placement-manage's bad --max-count does. */
  protected override exitCodeFor(err: PlacementUpgradeError): number {
    return err instanceof UsageError || err.code === 'usage'
      ? DataMigrationExit.BAD_MAX_COUNT
      : err.exitCode;
  }

  private printBatch = (event: ProgressEvent): void => {
    if (event.type === 'data-migration-batch' && event.found > 0) {
      this.say(`${event.found} rows matched query ${event.migration}, ${event.done} migrated`);
    } else if (event.type === 'data-migration-error') {
      this.say(`Error attempting to run ${event.migration}`);
      this.note(`${event.migration}: ${event.message}`);
    } else if (event.type === 'warning') {
      this.note(event.message);
    }
  };

  async run(): Promise<DataMigrationRun> {
    const { flags } = await this.parse(DbOnlineDataMigrations);
    const maxCount = parseMaxCount(flags['max-count']);
    const options = readPlacementOptions(placementConfigFiles(flags['placement-config']));
    const builtIn = await onlineDataMigrations();
    const plugins = await loadPlugins(pluginSources(flags, options.configFiles), {
      timeoutSeconds: flags['plugin-timeout'],
      taken: { checks: [], migrations: builtIn.map((m) => m.name) },
    });
    const db = await this.openPlacement(flags);
    let run: DataMigrationRun;
    try {
      this.note(`Placement database: ${db.display}`);
      if (maxCount === undefined)
        this.say(`Running batches of ${DEFAULT_BATCH_SIZE} until complete`);
      run = await runOnlineDataMigrations(db, {
        maxCount,
        migrations: [...builtIn, ...plugins.flatMap((p) => p.onlineDataMigrations)],
        incompleteConsumer: {
          projectId: flags['incomplete-consumer-project-id'] ?? options.incompleteConsumerProjectId,
          userId: flags['incomplete-consumer-user-id'] ?? options.incompleteConsumerUserId,
        },
        onProgress: this.printBatch,
      });
    } finally {
      await db.close();
    }

    this.say(
      prettyTable(
        ['Migration', 'Total Found', 'Completed'],
        run.migrations.map((m) => [m.name, m.found, m.done]),
      ),
    );
    const lastBatchErrors = run.errors.some((e) => e.batch === run.batches);
    if (run.failed && lastBatchErrors) {
      this.say('Some migrations failed unexpectedly. Check log for details.');
    }
    for (const u of run.unfixable) {
      this.say(`${u.migration}: ${u.reason}.`);
      this.note(`Hint: ${u.hint}`);
    }
    if (run.exitCode !== DataMigrationExit.COMPLETE) this.exitWithResult(run, run.exitCode);
    return run;
  }
}
