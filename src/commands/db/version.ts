import {
  BaseCommand,
  CONNECTION_HELP,
  connectTimeoutFlag,
  placementConnectionFlags,
} from '../../cli/base-command.js';
import {
  CONNECTION_EXIT_CODES,
  ExitCode,
  exitCodeHelp,
  type ExitCodeValue,
} from '../../errors/exit-codes.js';
import { getSchemaVersion, type SchemaVersion } from '../../schema/migrator.js';

/** What this command can end with; its --help lists exactly these. */
const EXIT_CODES: readonly ExitCodeValue[] = [...CONNECTION_EXIT_CODES, ExitCode.SCHEMA_STATE];

export default class DbVersion extends BaseCommand {
  static override exitCodes = EXIT_CODES;

  static override summary = 'Print the revision the placement database is stamped with.';

  static override description = `Prints the alembic revision in alembic_version, as "placement-manage db version"
does ("None" when the database is not versioned). With --json it also tells which placement
release introduced the revision, which releases accept it, and whether it is the head.

${CONNECTION_HELP}

EXIT CODES
${exitCodeHelp(EXIT_CODES)}`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf',
    '<%= config.bin %> <%= command.id %> --placement-url sqlite:///placement.sqlite --json',
  ];

  static override flags = {
    ...placementConnectionFlags(),
    'connect-timeout': connectTimeoutFlag,
  };

  async run(): Promise<SchemaVersion> {
    const { flags } = await this.parse(DbVersion);
    const db = await this.openPlacement(flags, { max: 1, allowUnfinishedMigration: true });
    try {
      const version = await getSchemaVersion(db);
      this.say(version.revision ?? 'None');
      return version;
    } finally {
      await db.close();
    }
  }
}
