import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { writeSync } from 'node:fs';
import chalk from 'chalk';
import { resolveConnection, ROLES, type DatabaseRole } from '../config/connections.js';
import {
  placementConfigFiles,
  readPlacementOptions,
  type PlacementOptions,
} from '../config/placement-options.js';
import { openDatabase, type Database } from '../db/connect.js';
import { refuseUnfinishedMigration } from '../copy/target.js';
import { classifyDatabaseError, withDatabaseErrors } from '../db/errors.js';
import { asPlacementUpgradeError, PlacementUpgradeError, UsageError } from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';
import { redact, redactDeep } from '../errors/redact.js';
import type { ProgressEvent } from '../progress/events.js';
import { renderError } from './render-error.js';

/** Flags that name the placement database, shared by every command that opens it. */
export function placementConnectionFlags() {
  const r = ROLES.placement;
  return {
    'placement-url': Flags.string({
      summary: `Placement database URL (SQLAlchemy style). Env: ${r.urlEnv}.`,
      helpValue: 'URL',
    }),
    'placement-config': Flags.string({
      summary: `placement.conf to read [${r.section}] connection from; repeatable, later files win. Env: ${r.configEnv}.`,
      multiple: true,
      helpValue: 'FILE',
    }),
  };
}

/** Flags that name the nova_api database. */
export function novaConnectionFlags() {
  const r = ROLES.nova;
  return {
    'nova-url': Flags.string({
      summary: `nova_api database URL (SQLAlchemy style). Env: ${r.urlEnv}.`,
      helpValue: 'URL',
    }),
    'nova-config': Flags.string({
      summary: `nova.conf to read [${r.section}] connection from; repeatable, later files win. Env: ${r.configEnv}.`,
      multiple: true,
      helpValue: 'FILE',
    }),
  };
}

export const connectTimeoutFlag = Flags.integer({
  summary: 'Seconds to wait for a database server to answer.',
  default: 10,
  min: 1,
});

/** How connections, environment variables and passwords are chosen, for every command's help. */
/** How long a schema-changing command waits for another run's schema lock. */
export const lockTimeoutFlag = Flags.integer({
  summary: 'Seconds to wait for another run holding the schema lock.',
  default: 60,
  min: 1,
});

export const CONNECTION_HELP = `Connections are chosen in this order: the URL flag; the URL environment variable; the
[placement_database] / [api_database] "connection" option of the config files (the
--*-config flags, else the *_CONFIG environment variable). PLACEMENT_UPGRADE_PLACEMENT_PASSWORD
and PLACEMENT_UPGRADE_NOVA_PASSWORD replace the password of a URL taken from the environment
or a config file, so no password need appear in argv. Passwords never appear in any output.
TLS is asked for in the URL as placement's drivers take it: MySQL ssl_ca=FILE (ssl_cert,
ssl_key, ssl_check_hostname=false, ssl_mode …), PostgreSQL sslmode=verify-full&sslrootcert=FILE
(sslcert, sslkey …). A MySQL URL may name an option file as TripleO's do (read_default_file=FILE,
read_default_group=GROUP), read as PyMySQL reads it; an unknown query parameter is refused. See
README, "Connections".`;

/**
 * The base of every command: --json, typed errors rendered in one place with
 * their exit code, secrets scrubbed from everything written.
 */
/** The signals an operator or a deployment tool stops a run with, and the exit code each ends in. */
const STOP_SIGNALS = {
  SIGINT: ExitCode.INTERRUPTED_SIGINT,
  SIGTERM: ExitCode.INTERRUPTED_SIGTERM,
} as const;

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;
  /** True for commands that stop cleanly on SIGINT/SIGTERM by themselves (api serve). */
  static handlesStopSignals = false;
  /**
   * Every exit code this command can end with (after exitCodeFor), as its
   * --help lists them; test/integration/help.test.ts holds the two equal.
   */
  static exitCodes: readonly number[] = [];

  /**
   * `this.parse(Cmd)` typed by exactly Cmd's own flags and args. oclif's
   * signature also infers the inherited `baseFlags` (typed FlagInput, an index
   * signature), which let any flag name compile: `flags['batch-sizzzze']`.
   * Commands spread the shared flag builders into their own `flags`; a name
   * they do not declare is a type error (test/types/command-flags.ts).
   */
  protected override parse<C extends CommandWithFlags>(
    command: C,
    argv?: string[],
  ): Promise<CommandParse<C>>;
  protected override parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>>;
  protected override parse(
    options?: Interfaces.Input<FlagOutput, FlagOutput, ArgOutput>,
    argv?: string[],
  ): Promise<unknown> {
    return super.parse(options, argv);
  }

  override async init(): Promise<void> {
    await super.init();
    if (!(this.constructor as typeof BaseCommand).handlesStopSignals) this.exitOnStopSignals();
  }

  /**
   * Ctrl-C or a playbook's timeout ends the run at once, saying so: every
   * batch, revision and data migration commits on its own, so what was
   * committed stays and a rerun resumes (a transaction in flight is rolled
   * back by the server when the connection closes).
   */
  protected exitOnStopSignals(): void {
    for (const [signal, exitCode] of Object.entries(STOP_SIGNALS)) {
      process.once(signal, () => {
        const advice = this.interruptionAdvice();
        const message = `Interrupted by ${signal}. ${advice.message}`;
        const hint = advice.hint;
        if (this.jsonEnabled()) {
          this.logJson({ error: { code: 'interrupted', exitCode, message, hint } });
        } else {
          // Straight to the file descriptor: the live progress display buffers
          // process.stderr while it draws, and process.exit would drop the buffer.
          writeSync(2, `\n${message}\nHint: ${hint}\n`);
        }
        process.exit(exitCode);
      });
    }
  }

  /**
   * What an interrupted run leaves and how to go on, for the stop-signal
   * message. Commands whose rerun does not resume say what works instead.
   */
  protected interruptionAdvice(): { message: string; hint: string } {
    return {
      message: 'What was committed before stays committed.',
      hint: 'Run the same command again to resume where this run stopped.',
    };
  }

  /** Lines for the operator; silent under --json. Goes to stdout. */
  protected say(message = ''): void {
    if (!this.jsonEnabled()) process.stdout.write(`${redact(message)}\n`);
  }

  /** Notes that are not the result (warnings, progress); stderr. */
  protected note(message: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${redact(message)}\n`);
  }

  protected get color(): boolean {
    return !this.jsonEnabled() && Boolean(process.stdout.isTTY) && chalk.level > 0;
  }

  override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(redactDeep(json), null, 2)}\n`);
  }

  /**
   * The exit code an error ends this command with. Commands that replace an
   * upstream tool whose codes deployment tools already test override it.
   */
  protected exitCodeFor(err: PlacementUpgradeError): number {
    return err.exitCode;
  }

  /**
   * Ends the command with a non-zero code that is a result, not an error
   * (warnings, more work left): under --json the result is still printed,
   * since oclif only prints what run() returns.
   */
  protected exitWithResult(result: unknown, exitCode: number): never {
    if (this.jsonEnabled()) this.logJson(result);
    this.exit(exitCode);
    throw new Error('unreachable: exit() throws');
  }

  /** Opens a database for a role from the parsed flags, with typed errors. */
  protected async open(
    role: DatabaseRole,
    flags: {
      url?: string;
      config?: string[];
      urlFlagName?: string;
      connectTimeout?: number;
      fallback?: { url: string; origin: string; password?: string };
    },
    options: { max?: number; mustExist?: boolean; causalReads?: boolean } = {},
  ): Promise<Database> {
    const spec = resolveConnection(role, {
      url: flags.url,
      configFiles: flags.config,
      urlFlagName: flags.urlFlagName,
      fallback: flags.fallback,
    });
    return openDatabase(spec, { ...options, connectTimeoutSeconds: flags.connectTimeout });
  }

  /**
   * Opens the placement database named by the flags of placementConnectionFlags()
   * and connectTimeoutFlag. A database that a migration has not finished is
   * refused (exit 25) unless the command only reports on it.
   */
  protected async openPlacement(
    flags: { 'placement-url'?: string; 'placement-config'?: string[]; 'connect-timeout'?: number },
    options: {
      max?: number;
      mustExist?: boolean;
      causalReads?: boolean;
      allowUnfinishedMigration?: boolean;
    } = {},
  ): Promise<Database> {
    const { allowUnfinishedMigration, ...pool } = options;
    const db = await this.open(
      'placement',
      {
        url: flags['placement-url'],
        config: flags['placement-config'],
        connectTimeout: flags['connect-timeout'],
      },
      pool,
    );
    if (!allowUnfinishedMigration) await this.refuseUnfinished(db);
    return db;
  }

  /**
   * placement.conf's options for this run: --placement-config, else
   * PLACEMENT_UPGRADE_PLACEMENT_CONFIG, the files the connection is read from.
   */
  protected placementOptions(configFlag: readonly string[] | undefined): PlacementOptions {
    return readPlacementOptions(placementConfigFiles(configFlag));
  }

  /**
   * Whether the run names a nova_api database, by flag or by environment
   * (PLACEMENT_UPGRADE_NOVA_URL or PLACEMENT_UPGRADE_NOVA_CONFIG), as migrate
   * reads its source: commands for which the source is optional open it then.
   */
  protected novaNamed(flags: { url?: string; config?: readonly string[] }): boolean {
    return (
      flags.url !== undefined ||
      (flags.config?.length ?? 0) > 0 ||
      Boolean(process.env[ROLES.nova.urlEnv]) ||
      Boolean(process.env[ROLES.nova.configEnv])
    );
  }

  /** Closes `db` and throws when a migration has not finished filling it. */
  protected async refuseUnfinished(db: Database): Promise<void> {
    try {
      await withDatabaseErrors(db, 'looking for an unfinished migration', () =>
        refuseUnfinishedMigration(db, `"placement-upgrade ${this.id ?? ''}"`),
      );
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  /** Renders core progress events as plain lines; commands with long work use listr2 instead. */
  protected progressLine = (event: ProgressEvent): void => {
    if (this.jsonEnabled()) return;
    switch (event.type) {
      case 'revision-start':
        this.note(`Applying ${event.revision}: ${event.description}`);
        break;
      case 'revision-done':
        this.note(`Applied ${event.revision} in ${event.ms} ms`);
        break;
      case 'step':
        this.note(event.message);
        break;
      case 'warning':
        this.note(`Warning: ${event.message}`);
        break;
    }
  };

  override async catch(
    err: Error & { oclif?: { exit?: number }; exitCode?: number },
  ): Promise<never> {
    if (err instanceof Errors.ExitError) throw err;
    let typed: PlacementUpgradeError;
    if (err instanceof PlacementUpgradeError) typed = err;
    else if (err instanceof Errors.CLIError || 'parse' in err) {
      // oclif's own parse failures (unknown flag, missing argument): a usage error.
      typed = new UsageError(
        err.message.replace(/\n+See more help with --help$/, ''),
        'See --help for the flags and examples.',
      );
    } else {
      // A query failed outside the core's own wrappers: still say which database and why.
      typed =
        classifyDatabaseError(err, `running "${this.id ?? 'the command'}"`) ??
        asPlacementUpgradeError(err);
    }
    const exitCode = this.exitCodeFor(typed);
    renderError(typed, exitCode, this.jsonEnabled() ? (doc) => this.logJson(doc) : undefined);
    this.exit(exitCode);
    throw typed; // unreachable: exit() throws
  }
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<T['flags']>;

// oclif's parser types, which its index does not export.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FlagOutput = { [name: string]: any };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ArgOutput = { [name: string]: any };

/** A command class with its own flags (and maybe args), as `this.parse` takes it. */
export interface CommandWithFlags {
  flags: Interfaces.FlagInput<FlagOutput>;
  args?: Interfaces.ArgInput<ArgOutput>;
  enableJsonFlag?: boolean;
}

/** What `this.parse(Cmd)` gives: Cmd's flags (plus --json) and args, no other names. */
export type CommandParse<C extends CommandWithFlags> = Interfaces.ParserOutput<
  C['flags'] extends Interfaces.FlagInput<infer F> ? F : never,
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  {},
  C['args'] extends Interfaces.ArgInput<infer A> ? A : Record<string, never>
>;
