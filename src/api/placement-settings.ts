/**
 * The [placement] options of placement.conf that `api serve` honours: who
 * owns allocations written before 1.8 (which named no project or user), how
 * many times a write is tried again when a provider's generation moved
 * meanwhile, and how GET /allocation_candidates orders and bounds its
 * answer (randomize_allocation_candidates from 8.0.0; max_allocation_candidates
 * and allocation_candidates_generation_strategy from later placement
 * releases, off by default so answers stay 8.0.0's).
 */
import type { OsloConfigValues } from '../config/oslo-ini.js';
import { ConfigError } from '../errors/errors.js';

export interface PlacementSettings {
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
  /** [placement] randomize_allocation_candidates: shuffle (or sample, with a limit) the candidates. */
  randomizeAllocationCandidates: boolean;
  /** [placement] max_allocation_candidates: stop generating after this many; -1 never stops. */
  maxAllocationCandidates: number;
  /** [placement] allocation_candidates_generation_strategy: one tree after another, or round-robin. */
  candidateGenerationStrategy: 'depth-first' | 'breadth-first';
}

/** placement's defaults (conf/placement.py). */
export const DEFAULT_PLACEMENT_SETTINGS: Readonly<PlacementSettings> = {
  incompleteConsumerProjectId: '00000000-0000-0000-0000-000000000000',
  incompleteConsumerUserId: '00000000-0000-0000-0000-000000000000',
  allocationConflictRetryCount: 10,
  randomizeAllocationCandidates: false,
  maxAllocationCandidates: -1,
  candidateGenerationStrategy: 'depth-first',
};

/** oslo's IntOpt: Python's int() of the text. */
function intOption(name: string, text: string | undefined, fallback: number, hint: string): number {
  if (text === undefined) return fallback;
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(text)) {
    throw new ConfigError(`[placement] ${name} is not an integer: ${JSON.stringify(text)}.`, hint);
  }
  return Number(text.trim().replace(/_/g, ''));
}

/** oslo's BoolOpt: the words oslo.config accepts, in any case. */
function boolOption(name: string, text: string | undefined, fallback: boolean): boolean {
  if (text === undefined) return fallback;
  const word = text.trim().toLowerCase();
  if (['true', '1', 'on', 'yes'].includes(word)) return true;
  if (['false', '0', 'off', 'no'].includes(word)) return false;
  throw new ConfigError(
    `[placement] ${name} is not a boolean: ${JSON.stringify(text)}.`,
    'Set it to true or false, or remove the option.',
  );
}

/** The options from the config files' values (the last one of each wins, as in oslo.config). */
export function readPlacementSettings(config: OsloConfigValues): PlacementSettings {
  const last = (name: string) => config.get('placement')?.get(name)?.at(-1);
  const strategy = last('allocation_candidates_generation_strategy')?.trim();
  if (strategy !== undefined && strategy !== 'depth-first' && strategy !== 'breadth-first') {
    throw new ConfigError(
      `[placement] allocation_candidates_generation_strategy must be depth-first or breadth-first, not ${JSON.stringify(strategy)}.`,
      'Set one of the two (depth-first is the default), or remove the option.',
    );
  }
  return {
    incompleteConsumerProjectId:
      last('incomplete_consumer_project_id') ??
      DEFAULT_PLACEMENT_SETTINGS.incompleteConsumerProjectId,
    incompleteConsumerUserId:
      last('incomplete_consumer_user_id') ?? DEFAULT_PLACEMENT_SETTINGS.incompleteConsumerUserId,
    allocationConflictRetryCount: intOption(
      'allocation_conflict_retry_count',
      last('allocation_conflict_retry_count'),
      DEFAULT_PLACEMENT_SETTINGS.allocationConflictRetryCount,
      'Set it to a whole number (placement defaults to 10), or remove the option.',
    ),
    randomizeAllocationCandidates: boolOption(
      'randomize_allocation_candidates',
      last('randomize_allocation_candidates'),
      DEFAULT_PLACEMENT_SETTINGS.randomizeAllocationCandidates,
    ),
    maxAllocationCandidates: intOption(
      'max_allocation_candidates',
      last('max_allocation_candidates'),
      DEFAULT_PLACEMENT_SETTINGS.maxAllocationCandidates,
      'Set it to a whole number (-1, the default, sets no limit), or remove the option.',
    ),
    candidateGenerationStrategy: strategy ?? DEFAULT_PLACEMENT_SETTINGS.candidateGenerationStrategy,
  };
}
