import { Flags } from '@oclif/core';
import { Listr } from 'listr2';
import { BaseCommand, CONNECTION_HELP, connectTimeoutFlag } from '../cli/base-command.js';
import { ROLES } from '../config/connections.js';
import type { Database } from '../db/connect.js';
import {
  CONNECTION_EXIT_CODES,
  ExitCode,
  exitCodeHelp,
  type ExitCodeValue,
} from '../errors/exit-codes.js';
import type { ProgressEvent } from '../progress/events.js';
import { DEFAULT_INCOMPLETE } from '../verify/expected.js';
import { verifyPlacement, type Difference, type VerifyReport } from '../verify/verify.js';
import { count } from '../text/count.js';
import { reportLines, stepLine, withWorkloadList } from '../cli/workload-render.js';
import type { WorkloadReport } from '../workload/index.js';
import {
  parseEndpoint,
  workloadOnEndpoint,
  workloadOnScratch,
  type ScratchReport,
} from '../workload/session.js';
import { UsageError } from '../errors/errors.js';
import { readRcConnections } from '../config/rc-file.js';
import { registerSecret } from '../errors/redact.js';

function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** What this command can end with; its --help lists exactly these. */
const EXIT_CODES: readonly ExitCodeValue[] = [
  ...CONNECTION_EXIT_CODES,
  ExitCode.SCHEMA_STATE,
  ExitCode.VERIFICATION_FAILED,
  ExitCode.UNFINISHED_MIGRATION,
  ExitCode.TARGET_HAS_OTHER_DATA,
  ExitCode.WORKLOAD_FAILED,
];

const TOKEN_ENV = 'PLACEMENT_UPGRADE_TOKEN';

export default class Verify extends BaseCommand {
  static override exitCodes = EXIT_CODES;

  // Ctrl-C under --workload stops before the next request and removes the run's own objects.
  static override handlesStopSignals = true;

  static override summary =
    'Check the migrated placement data the way nova will see it, through the Placement API.';

  static override description = `Starts the embedded Placement API in-process on the target placement database, read-only,
and reads every provider (with its inventories, usages, allocations, aggregates and traits),
every consumer's allocations with project and user, every project's usages, the resource
classes and the provider trees through it.

With --source (the nova_api database the data came from, any release from Newton on), it
compares all of that with what the source rows imply, computed independently of the API.
A migration may change two things: allocations without a consumer get a consumer of the
incomplete-consumer project and user (placement's [placement] incomplete_consumer_project_id
and _user_id, read from --placement-config when given), and a provider without a root
becomes its own root. Everything else must be equal.

Without --source, it checks that the target is consistent as the API sees it: usage within
capacity, every allocation visible through its consumer, every provider visible and
reachable in its tree.

It prints the counts compared and the differences (the first --max-differences; all with
--json), and exits 0 only when there is none.

With --workload, it replays what nova does through the Placement API instead: nova-compute's
inventory report over --sample compute nodes drawn from the data (--seed), the scheduler's
GET /allocation_candidates and claim for flavors derived from the instances they run, a cold
migration, a resize and its revert, a delete, and a flat compute node with VGPUs reshaped into
a nested tree followed by a granular claim; after every step usage must stay within capacity,
every allocation must show through its consumer and its provider, and generations must have
moved exactly where the step wrote. By default the target is first copied to a scratch
database (a temporary SQLite file, or --scratch URL, which must be empty) and the embedded API
serves the copy: the target itself is never written. With --endpoint URL it runs against a
live Placement service (the real placement after the cut-over, or api serve), creating only
compute nodes, consumers and a trait of its own (named placement-upgrade-workload-…,
CUSTOM_PLACEMENT_UPGRADE_WORKLOAD_…), which every request of the run requires, and removing
them at the end, also after a failure or Ctrl-C. Exit 0 only when every step passed; 27 names
the failing step with its request and response in full.

${CONNECTION_HELP}

EXIT CODES
${exitCodeHelp(EXIT_CODES)}`;

  static override examples = [
    {
      description: 'After a migration: compare placement with the nova_api it came from',
      command:
        '<%= config.bin %> <%= command.id %> --source mysql+pymysql://nova@db/nova_api --target mysql+pymysql://placement@db/placement',
    },
    {
      description: 'Prove the migrated placement works the way nova uses it, on a scratch copy',
      command:
        '<%= config.bin %> <%= command.id %> --workload --target mysql+pymysql://placement@db/placement',
    },
    {
      description: 'The same against the live service after the cut-over, for CI',
      command:
        '<%= config.bin %> <%= command.id %> --workload --endpoint http://controller:8778 --token "$(openstack token issue -f value -c id)" --json',
    },
    {
      description: 'Check a placement database on its own, result as JSON',
      command:
        '<%= config.bin %> <%= command.id %> --placement-config /etc/placement/placement.conf --json',
    },
  ];

  static override flags = {
    source: Flags.string({
      summary: `nova_api database URL to compare with. Env: ${ROLES.nova.urlEnv}.`,
      helpValue: 'URL',
    }),
    'nova-config': Flags.string({
      summary: `nova.conf to read [api_database] connection from (instead of --source). Env: ${ROLES.nova.configEnv}.`,
      multiple: true,
      helpValue: 'FILE',
    }),
    target: Flags.string({
      summary: `Placement database URL to verify. Env: ${ROLES.placement.urlEnv}.`,
      helpValue: 'URL',
    }),
    'placement-config': Flags.string({
      summary: `placement.conf to read [placement_database] connection and the incomplete-consumer ids from. Env: ${ROLES.placement.configEnv}.`,
      multiple: true,
      helpValue: 'FILE',
    }),
    'incomplete-consumer-project-id': Flags.string({
      summary: `Project given to allocations that had no consumer (default: placement.conf, else ${DEFAULT_INCOMPLETE.projectId}).`,
    }),
    'incomplete-consumer-user-id': Flags.string({
      summary: `User given to allocations that had no consumer (default: placement.conf, else ${DEFAULT_INCOMPLETE.userId}).`,
    }),
    rc: Flags.string({
      summary:
        'The rc file of migrate --rc (NOVA_API_* / PLACEMENT_* variables): the source and target from it; "-" for the environment.',
      helpValue: 'FILE',
    }),
    'rc-engine': Flags.string({
      summary: 'Database type the rc file describes.',
      options: ['mysql', 'postgresql'],
      default: 'mysql',
    }),
    'max-differences': Flags.integer({
      summary: 'Differences to print (all of them go into --json).',
      default: 20,
      min: 0,
    }),
    concurrency: Flags.integer({ summary: 'API requests in flight at once.', default: 8, min: 1 }),
    workload: Flags.boolean({
      summary:
        "Replay nova's workload (reports, scheduling, moves, reshape) instead of comparing rows.",
      default: false,
    }),
    endpoint: Flags.string({
      summary: 'With --workload: a live Placement API to run against instead of a scratch copy.',
      helpValue: 'URL',
      dependsOn: ['workload'],
    }),
    token: Flags.string({
      summary: `With --endpoint: the token to send (X-Auth-Token). Env: ${TOKEN_ENV}. A noauth2 service takes "admin".`,
      dependsOn: ['endpoint'],
    }),
    scratch: Flags.string({
      summary:
        'With --workload: an empty database to copy the target into (default: a temporary SQLite file).',
      helpValue: 'URL',
    }),
    sample: Flags.integer({
      summary: 'With --workload: compute nodes to draw from the data, and flavors to derive.',
      default: 3,
      min: 1,
      max: 100,
    }),
    seed: Flags.integer({
      summary: 'With --workload: the seed of the draw (the same seed, the same run).',
      default: 1,
    }),
    'connect-timeout': connectTimeoutFlag,
  };

  async run(): Promise<VerifyReport | WorkloadReport> {
    const { flags } = await this.parse(Verify);
    const rc = flags.rc
      ? readRcConnections(flags.rc, flags['rc-engine'] as 'mysql' | 'postgresql')
      : undefined;
    if (flags.workload) return this.workload({ ...flags, rcTarget: rc?.target });
    if (flags.scratch) {
      throw new UsageError(
        '--scratch goes with --workload.',
        'Add --workload, or leave --scratch out.',
      );
    }
    this.exitOnStopSignals();
    const withSource =
      rc !== undefined || this.novaNamed({ url: flags.source, config: flags['nova-config'] });
    const target = await this.openTarget(flags, rc?.target, flags.concurrency + 2);
    await this.refuseUnfinished(target);
    let source: Database | undefined;
    try {
      if (withSource) {
        source = await this.open(
          'nova',
          {
            url: flags.source,
            urlFlagName: '--source',
            config: flags['nova-config'],
            connectTimeout: flags['connect-timeout'],
            fallback: rc?.source,
          },
          { max: 2, mustExist: true },
        );
      }
      // The same files as the connection, and as migrate reads them.
      const options = this.placementOptions(flags['placement-config']);
      const incomplete = {
        projectId:
          flags['incomplete-consumer-project-id'] ??
          options.incompleteConsumerProjectId ??
          DEFAULT_INCOMPLETE.projectId,
        userId:
          flags['incomplete-consumer-user-id'] ??
          options.incompleteConsumerUserId ??
          DEFAULT_INCOMPLETE.userId,
      };
      this.note(
        source
          ? `Verifying ${target.display} against ${source.display}`
          : `Verifying ${target.display} on its own (no --source)`,
      );
      const report = await this.withProgress((onProgress) =>
        verifyPlacement({ target, source, incomplete, concurrency: flags.concurrency, onProgress }),
      );
      this.render(report, flags['max-differences']);
      if (!report.ok) {
        if (this.jsonEnabled()) this.logJson(report);
        this.exit(ExitCode.VERIFICATION_FAILED);
      }
      return report;
    } finally {
      await Promise.all([target.close(), source?.close()]);
    }
  }

  /** The placement database to verify: --target, the rc file's PLACEMENT_*, or placement.conf. */
  private openTarget(
    flags: { target?: string; 'placement-config'?: string[]; 'connect-timeout': number },
    fallback: { url: string; password: string; origin: string } | undefined,
    max: number,
  ): Promise<Database> {
    return this.open(
      'placement',
      {
        url: flags.target,
        urlFlagName: '--target',
        config: flags['placement-config'],
        connectTimeout: flags['connect-timeout'],
        fallback,
      },
      { max },
    );
  }

  /** `--workload`: the steps on a scratch copy of the target, or on --endpoint. */
  private async workload(flags: {
    source?: string;
    'nova-config'?: string[];
    target?: string;
    'placement-config'?: string[];
    endpoint?: string;
    token?: string;
    scratch?: string;
    sample: number;
    seed: number;
    'connect-timeout': number;
    rcTarget?: { url: string; password: string; origin: string };
  }): Promise<WorkloadReport> {
    if (flags.scratch && flags.endpoint) {
      throw new UsageError(
        '--scratch and --endpoint do not go together: a live service writes to its own database.',
        'Leave one out.',
      );
    }
    if (flags.source || (flags['nova-config']?.length ?? 0) > 0) {
      throw new UsageError(
        '--workload does not compare with a source: it exercises the target.',
        'Run verify --source … and verify --workload as two commands.',
      );
    }
    // Ctrl-C or SIGTERM: stop before the next request, clean up, then exit 130/143.
    const stop = new AbortController();
    let signalled: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled)
        process.exit(
          signal === 'SIGINT' ? ExitCode.INTERRUPTED_SIGINT : ExitCode.INTERRUPTED_SIGTERM,
        );
      signalled = signal;
      this.note(
        `\n${signal}: stopping before the next request${flags.endpoint ? " and removing the run's own objects" : ''} (again to leave at once).`,
      );
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const run = { sample: flags.sample, seed: flags.seed, signal: stop.signal };
    let report: WorkloadReport | ScratchReport;
    try {
      if (flags.endpoint) {
        const endpoint = parseEndpoint(flags.endpoint);
        const token = flags.token ?? process.env[TOKEN_ENV];
        // A keystone token is a credential: never in the output, whatever echoes
        // it (noauth2's "admin" or "user:project" are names, not secrets).
        if (token && token.length >= 12) registerSecret(token);
        this.note(
          `Running nova's workload against ${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}`,
        );
        report = await this.withWorkloadProgress((onProgress) =>
          workloadOnEndpoint(endpoint, flags.token ?? process.env[TOKEN_ENV], {
            ...run,
            onProgress,
          }),
        );
      } else {
        const target = await this.openTarget(flags, flags.rcTarget, 2);
        await this.refuseUnfinished(target);
        try {
          this.note(
            `Running nova's workload on a scratch copy of ${target.display} (the target is only read)`,
          );
          report = await this.withWorkloadProgress((onProgress) =>
            workloadOnScratch(target, { ...run, onProgress, scratchUrl: flags.scratch }),
          );
        } finally {
          await target.close();
        }
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    for (const line of reportLines(report)) this.say(line);
    if (signalled) {
      this.exitWithResult(
        report,
        signalled === 'SIGINT' ? ExitCode.INTERRUPTED_SIGINT : ExitCode.INTERRUPTED_SIGTERM,
      );
    }
    if (!report.ok) this.exitWithResult(report, ExitCode.WORKLOAD_FAILED);
    return report;
  }

  /** listr2 on a terminal, a plain line per step otherwise, nothing under --json. */
  private async withWorkloadProgress<T>(
    work: (onProgress: (e: ProgressEvent) => void) => Promise<T>,
  ): Promise<T> {
    if (this.jsonEnabled()) return work(() => undefined);
    if (process.stderr.isTTY) return withWorkloadList(work);
    return work((e) => {
      if (e.type === 'workload-step' && e.state !== 'start') this.note(stepLine(e));
      else if (e.type === 'step') this.note(e.message);
    });
  }

  /** listr2 on a terminal, plain lines otherwise, nothing under --json. */
  private async withProgress<T>(
    work: (onProgress: (e: ProgressEvent) => void) => Promise<T>,
  ): Promise<T> {
    if (this.jsonEnabled() || !process.stderr.isTTY) return work(this.progressLine);
    let result: T | undefined;
    await new Listr(
      [
        {
          title: 'Verifying through the Placement API',
          task: async (_ctx, task) => {
            result = await work((e) => {
              if (e.type === 'step') task.output = e.message;
            });
            task.title = 'Verified through the Placement API';
          },
          rendererOptions: { persistentOutput: false },
        },
      ],
      { renderer: 'default', rendererOptions: { collapseSubtasks: false } },
    ).run();
    return result as T;
  }

  private render(report: VerifyReport, max: number): void {
    const c = report.counts;
    this.say(
      report.mode === 'source'
        ? `Compared ${c.providers} providers, ${c.consumers} consumers, ${c.projects} projects and ${c.resourceClasses} custom resource classes (${c.requests} API requests).`
        : `Checked ${c.providers} providers, ${c.consumers} consumers and ${c.projects} projects (${c.requests} API requests).`,
    );
    const u = report.unreachableSourceRows;
    if (u && u.inventories + u.allocations + u.consumers > 0) {
      this.note(
        `Not visible through any API route, in the source already: ${u.inventories} inventories and ${u.allocations} allocations with dangling references, ${u.consumers} consumers without allocations.`,
      );
    }
    if (report.warnings.length > 0) {
      this.note(
        `${count(report.warnings.length, 'route')} ${report.warnings.length === 1 ? 'fails' : 'fail'} in the source already, and so in placement (nova will see these errors too):`,
      );
      for (const w of report.warnings.slice(0, max)) {
        this.note(`  ${w.subject} ${w.id}: ${w.request} answers ${show(w.actual)}`);
      }
    }
    if (report.ok) {
      this.say(
        report.mode === 'source'
          ? 'OK: the Placement API shows exactly what the source implies.'
          : 'OK: the target is consistent as the Placement API sees it.',
      );
      return;
    }
    this.say(
      `${report.differenceCount} difference${report.differenceCount === 1 ? '' : 's'}${report.differenceCount > max ? ` (the first ${max}; all with --json)` : ''}:`,
    );
    for (const d of report.differences.slice(0, max)) this.say(`  ${this.line(d)}`);
  }

  private line(d: Difference): string {
    return `${d.subject} ${d.id} ${d.field}: expected ${show(d.expected)}, got ${show(d.actual)}  [${d.request}]`;
  }
}
