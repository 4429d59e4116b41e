import { Flags } from '@oclif/core';
import {
  BaseCommand,
  CONNECTION_HELP,
  connectTimeoutFlag,
  lockTimeoutFlag,
  placementConnectionFlags,
} from '../../cli/base-command.js';
import {
  CONNECTION_EXIT_CODES,
  ExitCode,
  exitCodeHelp,
  type ExitCodeValue,
} from '../../errors/exit-codes.js';
import { HEAD, RELEASES } from '../../migrations/index.js';
import { syncSchema, type SyncResult } from '../../schema/migrator.js';

/** What this command can end with; its --help lists exactly these. */
const EXIT_CODES: readonly ExitCodeValue[] = [
  ...CONNECTION_EXIT_CODES,
  ExitCode.SCHEMA_STATE,
  ExitCode.DATA_BLOCKS_UPGRADE,
  ExitCode.LOCKED,
  ExitCode.UNFINISHED_MIGRATION,
];

export default class DbSync extends BaseCommand {
  static override exitCodes = EXIT_CODES;

  static override summary = "Create or upgrade placement's schema to a revision or release.";

  static override description = `Upgrades the placement database from whatever revision alembic_version holds
(or from empty) to --revision, default head (${HEAD}). --revision also takes a placement
release (${RELEASES.map((r) => r.name).join(', ')}): use the release your placement
service runs, because placement-manage refuses a revision it does not know.
The result is the schema placement's own migrations create, on MySQL/MariaDB, PostgreSQL
or SQLite, stamped in alembic_version so that placement-manage accepts it.
Running it again at the target changes nothing. Concurrent runs wait on a lock.

${CONNECTION_HELP}

EXIT CODES
${exitCodeHelp(EXIT_CODES)}`;

  static override examples = [
    {
      description: 'Try it without a server: create the schema in a SQLite file',
      command: '<%= config.bin %> <%= command.id %> --placement-url sqlite:///placement.sqlite',
    },
    {
      description: 'Upgrade to what a Zed placement service knows, reading placement.conf',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --revision zed',
    },
    {
      description: 'From a playbook: password from the environment, result as JSON',
      command:
        'PLACEMENT_UPGRADE_PLACEMENT_PASSWORD=... <%= config.bin %> <%= command.id %> --placement-url mysql+pymysql://placement@db/placement --json',
    },
  ];

  static override flags = {
    ...placementConnectionFlags(),
    revision: Flags.string({
      summary: 'Target revision id, "head", or a placement release name (zed, 2023.1 …).',
      default: 'head',
      helpValue: 'REV',
    }),
    'lock-timeout': lockTimeoutFlag,
    'connect-timeout': connectTimeoutFlag,
  };

  async run(): Promise<SyncResult> {
    const { flags } = await this.parse(DbSync);
    const db = await this.openPlacement(flags, { max: 1 });
    try {
      this.note(`Placement database: ${db.display}`);
      const result = await syncSchema(db, {
        target: flags.revision,
        lockTimeoutSeconds: flags['lock-timeout'],
        onProgress: this.progressLine,
      });
      const at = `${result.to}${result.release ? ` (${result.release})` : ''}`;
      this.say(
        result.upToDate
          ? `Already at revision ${at}; nothing to do.`
          : `Upgraded from ${result.from ?? 'an empty database'} to ${at}.`,
      );
      return result;
    } finally {
      await db.close();
    }
  }
}
