/**
 * Type-level test, checked by `npm run typecheck` (tsc, never run): a
 * command's parsed flags have exactly its own flags' names and types, so a
 * misspelt flag name does not compile. Each `@ts-expect-error` fails the
 * type check if the line below it compiles.
 */
import ApiServe from '../../src/commands/api/serve.js';
import DbOnlineDataMigrations from '../../src/commands/db/online-data-migrations.js';
import DbStamp from '../../src/commands/db/stamp.js';
import DbSync from '../../src/commands/db/sync.js';
import DbVersion from '../../src/commands/db/version.js';
import FixturesGenerate from '../../src/commands/fixtures/generate.js';
import Migrate from '../../src/commands/migrate.js';
import UpgradeCheck from '../../src/commands/upgrade/check.js';
import Verify from '../../src/commands/verify.js';

export abstract class MigrateFlagsProbe extends Migrate {
  async probe(): Promise<void> {
    const { flags } = await this.parse(Migrate);
    const batch: number | undefined = flags['batch-size'];
    const tables: string[] | undefined = flags.tables;
    const apply: boolean = flags.apply;
    const json: boolean | undefined = flags.json;
    // @ts-expect-error a misspelt flag name
    void flags['batch-sizzzze'];
    // @ts-expect-error a flag of another command (db online-data-migrations)
    void flags['incomplete-consumer-project-id'];
    // @ts-expect-error --batch-size is a number
    const wrong: string = flags['batch-size'];
    void [batch, tables, apply, json, wrong];
  }
}

export abstract class DbOnlineDataMigrationsFlagsProbe extends DbOnlineDataMigrations {
  async probe(): Promise<void> {
    const { flags } = await this.parse(DbOnlineDataMigrations);
    const project: string | undefined = flags['incomplete-consumer-project-id'];
    const configs: string[] | undefined = flags['placement-config'];
    // @ts-expect-error a misspelt flag name
    void flags['max-cuont'];
    void [project, configs];
  }
}

export abstract class DbStampFlagsProbe extends DbStamp {
  async probe(): Promise<void> {
    const { args, flags } = await this.parse(DbStamp);
    const timeout: number = flags['connect-timeout'];
    // @ts-expect-error a misspelt flag name
    void flags['placement-ulr'];
    // @ts-expect-error an argument it does not take
    void args.release;
    void timeout;
  }
}

/** The other commands: any name they do not declare is an error. */
export abstract class DbSyncFlagsProbe extends DbSync {
  async probe(): Promise<void> {
    const { flags } = await this.parse(DbSync);
    // @ts-expect-error a misspelt flag name
    void flags['revison'];
  }
}
export abstract class DbVersionFlagsProbe extends DbVersion {
  async probe(): Promise<void> {
    const { flags } = await this.parse(DbVersion);
    // @ts-expect-error a misspelt flag name
    void flags['placement-urll'];
  }
}
export abstract class ApiServeFlagsProbe extends ApiServe {
  async probe(): Promise<void> {
    const { flags } = await this.parse(ApiServe);
    // @ts-expect-error a misspelt flag name
    void flags['prot'];
  }
}
export abstract class VerifyFlagsProbe extends Verify {
  async probe(): Promise<void> {
    const { flags } = await this.parse(Verify);
    // @ts-expect-error a misspelt flag name
    void flags['sourse'];
  }
}
export abstract class UpgradeCheckFlagsProbe extends UpgradeCheck {
  async probe(): Promise<void> {
    const { flags } = await this.parse(UpgradeCheck);
    // @ts-expect-error a misspelt flag name
    void flags['releese'];
  }
}
export abstract class FixturesGenerateFlagsProbe extends FixturesGenerate {
  async probe(): Promise<void> {
    const { flags } = await this.parse(FixturesGenerate);
    // @ts-expect-error a misspelt flag name
    void flags['seeed'];
  }
}
