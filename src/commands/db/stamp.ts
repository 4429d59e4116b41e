import { Args } from '@oclif/core';
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
import { stampSchema, type StampResult } from '../../schema/migrator.js';

/** What this command can end with; its --help lists exactly these. */
const EXIT_CODES: readonly ExitCodeValue[] = [
  ...CONNECTION_EXIT_CODES,
  ExitCode.LOCKED,
  ExitCode.UNFINISHED_MIGRATION,
];

export default class DbStamp extends BaseCommand {
  static override exitCodes = EXIT_CODES;

  static override summary = 'Write a revision into alembic_version without changing the schema.';

  static override description = `Records REV (a revision id, "head", or a placement release name) as the
database's revision, creating alembic_version if needed, exactly as "placement-manage db stamp"
does. Nothing else changes: use it only when the tables already have that revision's shape.

${CONNECTION_HELP}

EXIT CODES
${exitCodeHelp(EXIT_CODES)}`;

  static override examples = [
    {
      description: 'Mark tables copied by the upstream migrate-db script as the initial schema',
      command:
        '<%= config.bin %> <%= command.id %> b4ed3a175331 --placement-config /etc/placement/placement.conf',
    },
  ];

  static override args = {
    revision: Args.string({
      description: 'Revision id, "head", or a placement release name.',
      required: true,
    }),
  };

  static override flags = {
    ...placementConnectionFlags(),
    'lock-timeout': lockTimeoutFlag,
    'connect-timeout': connectTimeoutFlag,
  };

  async run(): Promise<StampResult> {
    const { args, flags } = await this.parse(DbStamp);
    const db = await this.openPlacement(flags, { max: 1 });
    try {
      const result = await stampSchema(db, {
        target: args.revision,
        lockTimeoutSeconds: flags['lock-timeout'],
      });
      this.say(`Stamped ${result.revision}${result.previous ? ` (was ${result.previous})` : ''}.`);
      return result;
    } finally {
      await db.close();
    }
  }
}
