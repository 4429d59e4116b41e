/**
 * The [placement] options of placement.conf that allocation writes honour:
 * who owns allocations written before 1.8 (which named no project or
 * user), and how many times a write is tried again when a provider's
 * generation moved meanwhile.
 */
import type { OsloConfigValues } from '../config/oslo-ini.js';
import { ConfigError } from '../errors/errors.js';

export interface WriteSettings {
  /** [placement] incomplete_consumer_project_id. */
  incompleteConsumerProjectId: string;
  /** [placement] incomplete_consumer_user_id. */
  incompleteConsumerUserId: string;
  /**
   * [placement] allocation_conflict_retry_count: how many times replace_all
   * writes before giving up on a provider generation conflict. As in
   * placement, 0 never writes and a negative count never gives up.
   */
  allocationConflictRetryCount: number;
}

/** placement's defaults (conf/placement.py). */
export const DEFAULT_WRITE_SETTINGS: Readonly<WriteSettings> = {
  incompleteConsumerProjectId: '00000000-0000-0000-0000-000000000000',
  incompleteConsumerUserId: '00000000-0000-0000-0000-000000000000',
  allocationConflictRetryCount: 10,
};

/** The options from the config files' values (the last one of each wins, as in oslo.config). */
export function readWriteSettings(config: OsloConfigValues): WriteSettings {
  const last = (name: string) => config.get('placement')?.get(name)?.at(-1);
  const retries = last('allocation_conflict_retry_count');
  // oslo's IntOpt: Python's int() of the text.
  if (retries !== undefined && !/^\s*[+-]?\d+(_\d+)*\s*$/.test(retries)) {
    throw new ConfigError(
      `[placement] allocation_conflict_retry_count is not an integer: ${JSON.stringify(retries)}.`,
      'Set it to a whole number (placement defaults to 10), or remove the option.',
    );
  }
  return {
    incompleteConsumerProjectId:
      last('incomplete_consumer_project_id') ?? DEFAULT_WRITE_SETTINGS.incompleteConsumerProjectId,
    incompleteConsumerUserId:
      last('incomplete_consumer_user_id') ?? DEFAULT_WRITE_SETTINGS.incompleteConsumerUserId,
    allocationConflictRetryCount:
      retries === undefined
        ? DEFAULT_WRITE_SETTINGS.allocationConflictRetryCount
        : Number(retries.trim().replace(/_/g, '')),
  };
}
