import { PlacementUpgradeError } from '../errors/errors.js';
import { INITIAL_REVISION, releaseOf, revisionIndex } from '../migrations/index.js';
import { getSchemaVersion } from '../schema/migrator.js';
import { failure, success, type UpgradeCheck } from './types.js';

/** The last of Train's blocker revisions: db sync refuses to pass it before the online data migrations. */
const LAST_BLOCKER = 'b5c396305c25';

/**
 * The stamped alembic revision must be the head of the placement release
 * the operator runs: behind it, that release's code expects tables and
 * columns that are not there; ahead of it, its placement-manage refuses the
 * database.
 */
const databaseRevision: UpgradeCheck = {
  title: 'Database Revision',
  gate: 'blocking',
  async run({ database, release }) {
    const target = `${release.head} (the head of placement ${release.name})`;
    const sync = `"placement-upgrade db sync --revision ${release.name}"`;
    let version;
    try {
      version = await getSchemaVersion(database);
    } catch (err) {
      if (!(err instanceof PlacementUpgradeError)) throw err;
      return failure(`${err.message} ${err.hint ?? ''}`.trim());
    }
    const { revision, placementTables } = version;
    if (revision === null) {
      if (placementTables.length === 0) {
        return failure(
          `The database has no placement schema and no alembic revision; placement ${release.name} needs revision ${release.head}. Run ${sync}, or "placement-upgrade migrate" to copy the data from nova_api.`,
        );
      }
      return failure(
        `The database has placement tables but no alembic revision, so neither placement-manage nor placement-upgrade knows their schema. If they were copied from nova_api (the upstream migrate-db script), run "placement-upgrade db stamp ${INITIAL_REVISION}", then "placement-upgrade db online-data-migrations" and ${sync}.`,
      );
    }
    const at = `${revision} (${releaseOf(revision) ?? 'unknown release'})`;
    const behind = revisionIndex(revision) - revisionIndex(release.head);
    if (behind === 0) return success();
    if (behind > 0) {
      return failure(
        `The database is at revision ${at}, newer than placement ${release.name} knows (its head is ${release.head}); its placement-manage refuses the database. Run the placement release the database was upgraded for, or give that release to --release.`,
      );
    }
    const blockers =
      revisionIndex(revision) < revisionIndex(LAST_BLOCKER)
        ? 'Run "placement-upgrade db online-data-migrations" first (Train\'s revisions refuse providers without a root and allocations without a consumer), then '
        : 'Run ';
    return failure(`The database is at revision ${at}, behind ${target}. ${blockers}${sync}.`);
  },
};

export default databaseRevision;
