import { Flags } from '@oclif/core';
import { ROLES } from '../../config/connections.js';
import type { Database } from '../../db/connect.js';
import {
  BaseCommand,
  CONNECTION_HELP,
  connectTimeoutFlag,
  placementConnectionFlags,
} from '../../cli/base-command.js';
import { formatUpgradeCheckJson, formatUpgradeCheckTable } from '../../checks/format.js';
import {
  runUpgradeChecks,
  upgradeChecks,
  worstResult,
  type UpgradeCheckReport,
} from '../../checks/registry.js';
import { configSearchDirs } from '../../config/placement-options.js';
import { UsageError, type PlacementUpgradeError } from '../../errors/errors.js';
import { redactDeep } from '../../errors/redact.js';
import { NEWEST_RELEASE, RELEASES, findRelease } from '../../migrations/index.js';

/** oslo.upgradecheck's code for "the checks could not run". */
const COULD_NOT_RUN = 255;

const titles = (await upgradeChecks()).map((c) => `  - ${c.title}`).join('\n');

export default class UpgradeCheck extends BaseCommand {
  // Every error is "could not run" (exitCodeFor); a stop signal keeps its own code.
  static override exitCodes = [0, 1, 2, COULD_NOT_RUN, 130, 143];

  static override summary =
    'Check that the placement database is ready, as "placement-status upgrade check" does, and more.';

  static override description = `Runs the upgrade checks in order and prints oslo.upgradecheck's results table (or, with --json, its one-line JSON document). placement-status's own three checks come first, with the same titles and meaning; the others catch what an extraction from nova_api leaves behind. Each check's details say what to run or fix. Checks only read.

Checks:
${titles}

"Database Revision" compares the stamped revision with the head of --release (default ${NEWEST_RELEASE.name}, the newest known): give the release your placement service runs. The policy check reads [oslo_policy] policy_file from --placement-config and looks for the file where oslo.config would: beside the config files, then ~/.placement, ~, /etc/placement, /etc.

${CONNECTION_HELP}

EXIT CODES (oslo.upgradecheck's, which playbooks test)
    0  every check succeeded
    1  at least one warning (the upgrade may be fine: read the details)
    2  at least one failure (a check that throws is that check's failure)
  255  the checks could not run at all: configuration missing or unreadable,
       the database unreachable or refusing the login, a bad flag or --release
  130  interrupted by SIGINT (Ctrl-C); checks only read, so nothing changed
  143  interrupted by SIGTERM (a playbook timeout); nothing changed

255 covers every "could not run" case because callers of placement-status read any other code as a check result; the message (under --json, the "error" document's "code") says which.`;

  static override examples = [
    {
      description: 'Before restarting placement on Zed',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --release zed',
    },
    {
      description: 'Machine-readable, as oslo.upgradecheck prints it',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --json',
    },
  ];

  static override flags = {
    ...placementConnectionFlags(),
    release: Flags.string({
      summary: `The placement release the database must be ready for (${RELEASES.map((r) => r.name).join(', ')}).`,
      default: NEWEST_RELEASE.name,
      helpValue: 'RELEASE',
    }),
    source: Flags.string({
      summary: `nova_api database URL: adds the Source Parity check (does nova_api still match?). Env: ${ROLES.nova.urlEnv}.`,
      helpValue: 'URL',
    }),
    'nova-config': Flags.string({
      summary: 'nova.conf to read [api_database] connection from, for Source Parity; repeatable.',
      multiple: true,
      helpValue: 'FILE',
    }),
    'connect-timeout': connectTimeoutFlag,
  };

  /** Anything that stops the checks from running is oslo.upgradecheck's 255. */
  protected override exitCodeFor(_err: PlacementUpgradeError): number {
    return COULD_NOT_RUN;
  }

  /** One line, as Python's json.dumps prints it, for the report and for errors alike. */
  override logJson(json: unknown): void {
    const value = redactDeep(json) as UpgradeCheckReport;
    process.stdout.write(
      `${'checks' in (value as object) ? formatUpgradeCheckJson(value) : JSON.stringify(value)}\n`,
    );
  }

  async run(): Promise<UpgradeCheckReport> {
    const { flags } = await this.parse(UpgradeCheck);
    const release = findRelease(flags.release);
    if (!release) {
      throw new UsageError(
        `"${flags.release}" is not a placement release.`,
        `Releases: ${RELEASES.map((r) => r.name).join(', ')} (code names and versions such as antelope or 9.0.0 work too).`,
      );
    }
    const placementOptions = this.placementOptions(flags['placement-config']);
    const db = await this.openPlacement(flags, {
      max: 1,
      mustExist: true,
      allowUnfinishedMigration: true,
    });
    let report: UpgradeCheckReport;
    let source: Database | undefined;
    try {
      if (this.novaNamed({ url: flags.source, config: flags['nova-config'] })) {
        source = await this.open(
          'nova',
          {
            url: flags.source,
            urlFlagName: '--source',
            config: flags['nova-config'],
            connectTimeout: flags['connect-timeout'],
          },
          { max: 1, mustExist: true },
        );
      }
      report = await runUpgradeChecks({
        database: db,
        source,
        release: { name: release.name, head: release.head },
        placementOptions,
        configSearchDirs: configSearchDirs(placementOptions.configFiles),
      });
    } finally {
      await db.close();
      await source?.close();
    }
    this.say(formatUpgradeCheckTable(report));
    const code = worstResult(report);
    if (code !== 0) this.exitWithResult(report, code);
    return report;
  }
}
