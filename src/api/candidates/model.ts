/**
 * The objects an allocation-candidates search builds, as placement's
 * allocation_candidate module has them: a request resource is one amount
 * of one class from one provider; an allocation request is a set of them
 * with the providers each request group was satisfied by (mappings);
 * provider summaries carry capacity, usage and traits.
 *
 * Request resources are shared between the allocation requests built from
 * them, and consolidating adds amounts into the first one in place unless
 * placement would have copied it: 8.0.0's answers depend on that (the same
 * class asked in two groups on one provider without group_policy=none).
 */

export interface ProviderRef {
  id: number;
  uuid: string;
  rootUuid: string;
  parentUuid: string | null;
}

export interface RequestResource {
  provider: ProviderRef;
  resourceClass: string;
  amount: number;
}

export interface AllocationRequest {
  anchorUuid: string;
  /** Whether the group it satisfies is a suffixed one (set once the group's search is done). */
  useSameProvider: boolean;
  resources: RequestResource[];
  /** Group suffix → providers that satisfy it. */
  mappings: Map<string, Set<string>>;
}

export interface SummaryResource {
  resourceClass: string;
  capacity: number;
  used: number;
  maxUnit: number;
}

export interface ProviderSummary {
  provider: ProviderRef;
  resources: SummaryResource[];
  traits: string[];
}

/**
 * The identity placement's AllocationRequest.__eq__ gives: the set of
 * (provider, class, amount) and the mappings; the anchor does not count.
 */
export function requestKey(req: AllocationRequest): string {
  const resources = req.resources
    .map((r) => `${r.provider.id}\u0000${r.resourceClass}\u0000${r.amount}`)
    .sort();
  const mappings = [...req.mappings]
    .map(([suffix, uuids]) => `${suffix}\u0000${[...uuids].sort().join(',')}`)
    .sort();
  return `${[...new Set(resources)].join('\u0001')}\u0002${mappings.join('\u0001')}`;
}

/** The key of a provider's summary of one class. */
export const capacityKey = (providerId: number, resourceClass: string): string =>
  `${providerId}\u0000${resourceClass}`;
