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
import { PLUGIN_HELP, pluginFlags } from '../../cli/plugin-flags.js';
import { loadPlugins, pluginSources } from '../../plugins/load.js';
import {
  checkGate,
  checkName,
  countedResult,
  releaseForDatabase,
  runUpgradeChecks,
  selectChecks,
  upgradeChecks,
  type UpgradeCheckReport,
} from '../../checks/registry.js';
import { configSearchDirs } from '../../config/placement-options.js';
import { UsageError, type PlacementUpgradeError } from '../../errors/errors.js';
import { redactDeep } from '../../errors/redact.js';
import { RELEASES, findRelease } from '../../migrations/index.js';

/** oslo.upgradecheck's code for "the checks could not run". */
const COULD_NOT_RUN = 255;

const GATE_NOTE = {
  placement: "placement-status's own",
  blocking: 'can fail a run',
  advisory: 'advisory',
} as const;
const titles = (await upgradeChecks())
  .map((c) => `  - ${c.title} (${checkName(c)}; ${GATE_NOTE[checkGate(c)]})`)
  .join('\n');
const RESULT_NAMES = ['Success', 'Warning', 'Failure'] as const;

export default class UpgradeCheck extends BaseCommand {
  // Every error is "could not run" (exitCodeFor); a stop signal keeps its own code.
  static override exitCodes = [0, 1, 2, COULD_NOT_RUN, 130, 143];

  static override summary =
    'Check that the placement database is ready, as "placement-status upgrade check" does, and more.';

  static override description = `Runs the upgrade checks in order and prints oslo.upgradecheck's results table (or, with --json, its one-line JSON document). placement-status's own three checks come first, with the same titles and meaning; the others catch what an extraction from nova_api leaves behind. Each check's details say what to run or fix. Checks only read.

Checks (name for --checks; how it counts):
${titles}

Which checks decide the exit code. Without --checks every check runs and the exit code is placement-status's on the same database, unless one of the checks that can fail a run finds something: those find what stops placement or its upgrade, which placement-status does not look at. Unfinished Migration: a migrate that has not finished holds part of the data, so placement would serve a partial cloud. Database Revision: a schema that is not the head of the release (no alembic revision, one this tool does not know, one newer than the release, or one between releases after an interrupted db sync) is refused by that release's placement-manage or misread by its code. Source Parity (only with --source or --nova-config): nova_api no longer matches, so the copy is stale. The advisory checks find data placement serves anyway (orphans, usage over capacity, inventory values the API would refuse today, standard names a service start adds, nova-era leftovers): their findings and results are in the table and the --json document, but they change the exit code only with --checks all or when --checks names them. A note on stderr lists the advisory findings left out of the exit code. --checks placement runs placement-status's three checks only; --checks NAME,... runs the named ones, each counted.

"Database Revision" compares the stamped revision with the head of --release, which defaults to the release of the database's own revision (the first release that shipped it: xena for 422ece571366, so a cloud migrated with --revision zed passes): give --release the release your placement service is about to run to check the database is ready for it. The policy check reads [oslo_policy] policy_file from --placement-config and looks for the file where oslo.config would: beside the config files, then ~/.placement, ~, /etc/placement, /etc.

${CONNECTION_HELP}

${PLUGIN_HELP}

EXIT CODES (oslo.upgradecheck's, which playbooks test)
    0  every check that counts succeeded
    1  at least one warning among them (the upgrade may be fine: read the details)
    2  at least one failure among them (a check that throws is that check's failure)
  255  the checks could not run at all: configuration missing or unreadable,
       the database unreachable or refusing the login, a bad flag or --release
  130  interrupted by SIGINT (Ctrl-C); checks only read, so nothing changed
  143  interrupted by SIGTERM (a playbook timeout); nothing changed

255 covers every "could not run" case because callers of placement-status read any other code as a check result; the message (under --json, the "error" document's "code") says which.`;

  static override examples = [
    {
      description: "Only placement-status's own checks",
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --checks placement',
    },
    {
      description: 'Every check counted, before restarting placement on Zed',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --checks all --release zed',
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
      summary: `The placement release the database must be ready for (${RELEASES.map((r) => r.name).join(', ')}); default: the release of the database's revision.`,
      helpValue: 'RELEASE',
    }),
    checks: Flags.string({
      summary:
        "Which checks run and decide the exit code: placement (placement-status's three), all, or check names, comma-separated (default: all run, advisory ones not counted).",
      helpValue: 'placement|all|NAME,...',
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
    ...pluginFlags(),
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
    const chosen = flags.release === undefined ? undefined : findRelease(flags.release);
    if (flags.release !== undefined && !chosen) {
      throw new UsageError(
        `"${flags.release}" is not a placement release.`,
        `Releases: ${RELEASES.map((r) => r.name).join(', ')} (code names and versions such as antelope or 9.0.0 work too).`,
      );
    }
    const placementOptions = this.placementOptions(flags['placement-config']);
    const builtIn = await upgradeChecks();
    const plugins = await loadPlugins(pluginSources(flags, placementOptions.configFiles), {
      timeoutSeconds: flags['plugin-timeout'],
      taken: { checks: builtIn.map((c) => c.title), migrations: [] },
    });
    // A plugin's checks are advisory unless they declare a gate, as the extra built-in ones are.
    const selection = selectChecks([...builtIn, ...plugins.flatMap((p) => p.checks)], flags.checks);
    const db = await this.openPlacement(flags, {
      max: 1,
      mustExist: true,
      allowUnfinishedMigration: true,
    });
    let report: UpgradeCheckReport;
    let source: Database | undefined;
    try {
      let release: { name: string; head: string };
      if (chosen) {
        release = chosen;
      } else {
        const derived = await releaseForDatabase(db);
        release = derived;
        this.note(
          derived.revision === null
            ? `Release: ${derived.name} (the newest: the database has no revision; --release overrides)`
            : `Release: ${derived.name} (from the database's revision ${derived.revision}; --release overrides)`,
        );
      }
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
      report = await runUpgradeChecks(
        {
          database: db,
          source,
          release: { name: release.name, head: release.head },
          placementOptions,
          configSearchDirs: configSearchDirs(placementOptions.configFiles),
        },
        selection.checks,
      );
    } finally {
      await db.close();
      await source?.close();
    }
    this.say(formatUpgradeCheckTable(report));
    const uncounted = report.checks.filter((c) => c.result > 0 && !selection.counted.has(c.check));
    if (uncounted.length > 0) {
      this.note(
        `Advisory, not counted in the exit code (--checks all counts them): ${uncounted.map((c) => `${c.check}: ${RESULT_NAMES[c.result]}`).join('; ')}.`,
      );
    }
    const code = countedResult(report, selection.counted);
    if (code !== 0) this.exitWithResult(report, code);
    return report;
  }
}
