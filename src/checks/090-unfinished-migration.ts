import { readRun } from '../copy/target.js';
import { failure, success, type UpgradeCheck } from './types.js';

/**
 * A migration that has not finished leaves placement's database half
 * filled: placement would start on it and serve what has been copied so far.
 */
const unfinishedMigration: UpgradeCheck = {
  title: 'Unfinished Migration',
  gate: 'blocking',
  async run({ database }) {
    const run = await readRun(database);
    if (!run) return success();
    return failure(
      `A placement-upgrade migration that started ${run.startedAt} from ${run.source} has not ` +
        `finished (${run.phase === 'copy' ? 'still copying' : 'the online data migrations and schema upgrade remain'}). ` +
        'Run the same "placement-upgrade migrate --apply" again to finish it before starting placement.',
    );
  },
};

export default unfinishedMigration;
