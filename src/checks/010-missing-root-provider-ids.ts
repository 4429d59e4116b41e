import { countRows } from './support.js';
import { failure, plural, success, type UpgradeCheck } from './types.js';

/**
 * placement-status's check: providers without a root_provider_id (created
 * before Queens) block Train's schema until the online data migrations ran.
 */
const missingRootProviderIds: UpgradeCheck = {
  title: 'Missing Root Provider IDs',
  gate: 'placement',
  async run({ database: { knex } }) {
    const missing = await countRows(knex('resource_providers').whereNull('root_provider_id'));
    if (missing === 0) return success();
    const withParent = await countRows(
      knex('resource_providers').whereNull('root_provider_id').whereNotNull('parent_provider_id'),
    );
    return failure(
      `${plural(missing, 'resource provider has', 'resource providers have')} no root_provider_id. ` +
        'Run "placement-upgrade db online-data-migrations" (or "placement-manage db ' +
        'online_data_migrations") to set it.' +
        (withParent > 0
          ? ` ${withParent} of them ${withParent === 1 ? 'has' : 'have'} a parent provider, so ` +
            "the migration cannot set their root: set each one's root_provider_id to its " +
            "parent's by hand."
          : ''),
    );
  },
};

export default missingRootProviderIds;
