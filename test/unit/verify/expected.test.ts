import { describe, expect, it } from 'vitest';
import { DEFAULT_INCOMPLETE, expectedFromSource } from '../../../src/verify/expected.js';
import type { NovaPlacementData } from '../../../src/verify/nova-source.js';

const STANDARD = ['VCPU', 'MEMORY_MB', 'DISK_GB'];

function source(over: Partial<NovaPlacementData> = {}): NovaPlacementData {
  return {
    tables: [],
    providers: [
      { id: 1, uuid: 'rp-1', name: 'cn1', generation: 3 },
      { id: 2, uuid: 'rp-2', name: 'numa', generation: 1, rootProviderId: 1, parentProviderId: 1 },
    ],
    inventories: [
      {
        resourceProviderId: 1,
        resourceClassId: 0,
        total: 8,
        reserved: 0,
        minUnit: 1,
        maxUnit: 8,
        stepSize: 1,
        allocationRatio: 16,
      },
      {
        resourceProviderId: 2,
        resourceClassId: 10000,
        total: 1,
        reserved: 0,
        minUnit: 1,
        maxUnit: 1,
        stepSize: 1,
        allocationRatio: 1,
      },
      {
        resourceProviderId: 99,
        resourceClassId: 0,
        total: 1,
        reserved: 0,
        minUnit: 1,
        maxUnit: 1,
        stepSize: 1,
        allocationRatio: 1,
      },
    ],
    allocations: [
      { resourceProviderId: 1, consumerId: 'c-known', resourceClassId: 0, used: 2 },
      { resourceProviderId: 1, consumerId: 'c-incomplete', resourceClassId: 0, used: 1 },
      { resourceProviderId: 1, consumerId: 'c-incomplete', resourceClassId: 1, used: 512 },
      { resourceProviderId: 2, consumerId: 'c-no-user', resourceClassId: 10000, used: 1 },
    ],
    customClasses: new Map([[10000, 'CUSTOM_GOLD']]),
    aggregates: new Map([[1, 'agg-1']]),
    providerAggregates: [{ resourceProviderId: 1, aggregateId: 1 }],
    traits: new Map([[5, 'COMPUTE_NODE']]),
    providerTraits: [{ resourceProviderId: 1, traitId: 5 }],
    consumers: new Map([
      ['c-known', { projectId: 1, userId: 1, generation: 4 }],
      ['c-no-user', { projectId: 1, userId: 42, generation: 0 }],
      ['c-idle', { projectId: 1, userId: 1, generation: 0 }],
    ]),
    projects: new Map([[1, 'proj-a']]),
    users: new Map([[1, 'user-a']]),
    ...over,
  };
}

describe('expectedFromSource', () => {
  const e = expectedFromSource(source(), STANDARD);

  it('roots a provider without nesting columns at itself and keeps real trees', () => {
    expect(e.providers.get('rp-1')).toMatchObject({
      rootUuid: 'rp-1',
      parentUuid: null,
      aggregates: ['agg-1'],
      traits: ['COMPUTE_NODE'],
    });
    expect(e.providers.get('rp-2')).toMatchObject({ rootUuid: 'rp-1', parentUuid: 'rp-1' });
  });

  it('counts every allocation of a class with inventory in the provider usages', () => {
    // MEMORY_MB has no inventory on rp-1: placement does not show its usage.
    expect(e.providers.get('rp-1')!.usages).toEqual({ VCPU: 3 });
    expect(e.providers.get('rp-2')!.usages).toEqual({ CUSTOM_GOLD: 1 });
  });

  it('gives consumer-less allocations the incomplete project and user, generation 0', () => {
    expect(e.consumers.get('c-incomplete')).toEqual({
      uuid: 'c-incomplete',
      allocations: { 'rp-1': { generation: 3, resources: { VCPU: 1, MEMORY_MB: 512 } } },
      project_id: DEFAULT_INCOMPLETE.projectId,
      user_id: DEFAULT_INCOMPLETE.userId,
      consumer_generation: 0,
      consumer_type: 'unknown',
    });
    expect(e.consumers.get('c-known')!.consumer_generation).toBe(4);
  });

  it('hides a consumer whose user row is gone from listings but not from project usages', () => {
    expect(e.consumers.has('c-no-user')).toBe(false);
    expect(e.providers.get('rp-2')!.allocations).toEqual({});
    expect(e.projects.get('proj-a')).toEqual({
      externalId: 'proj-a',
      usages: { VCPU: 2, CUSTOM_GOLD: 1 },
      consumerCount: 2,
    });
    expect(e.unreachable).toEqual({ inventories: 1, allocations: 1, consumers: 1 });
  });
});
