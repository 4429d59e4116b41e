import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/workload/client.js';
import {
  novaQuery,
  seededRandom,
  shuffled,
  type WorkloadContext,
} from '../../src/workload/context.js';
import { StepFailure } from '../../src/workload/failure.js';
import type { ProviderRef } from '../../src/workload/placement.js';
import { checkInvariants, type ProviderState, type Snapshot } from '../../src/workload/snapshot.js';
import { parseEndpoint } from '../../src/workload/session.js';

const exchange = (path: string): Exchange => ({
  method: 'GET',
  path,
  status: 200,
  body: {},
  text: '{}',
  ms: 0,
});

const inv = (total: number, reserved = 0, ratio = 1) => ({
  total,
  reserved,
  min_unit: 1,
  max_unit: total,
  step_size: 1,
  allocation_ratio: ratio,
});

function provider(
  ref: ProviderRef,
  usages: Record<string, number>,
  allocations: ProviderState['allocations'],
): ProviderState {
  return {
    ref,
    inventories: { VCPU: inv(8, 0, 2), MEMORY_MB: inv(1024, 512) },
    usages,
    allocations,
    traits: [],
    aggregates: [],
    seen: {
      usages: exchange(`/resource_providers/${ref.uuid}/usages`),
      allocations: exchange(`/resource_providers/${ref.uuid}/allocations`),
      inventories: exchange(`/resource_providers/${ref.uuid}/inventories`),
    },
  };
}

/** A root with one child, one consumer holding VCPU on the root and MEMORY_MB on the child. */
function cloud(): Snapshot {
  const root: ProviderRef = { uuid: 'r', name: 'cn1', generation: 3, parent: null, root: 'r' };
  const child: ProviderRef = {
    uuid: 'c',
    name: 'cn1_numa0',
    generation: 1,
    parent: 'r',
    root: 'r',
  };
  const s: Snapshot = {
    all: new Map([
      ['r', root],
      ['c', child],
    ]),
    listing: exchange('/resource_providers'),
    providers: new Map([
      ['r', provider(root, { VCPU: 16 }, { i1: { VCPU: 16 } })],
      ['c', provider(child, { MEMORY_MB: 512 }, { i1: { MEMORY_MB: 512 } })],
    ]),
    consumers: new Map([
      [
        'i1',
        {
          view: {
            allocations: { r: { resources: { VCPU: 16 } }, c: { resources: { MEMORY_MB: 512 } } },
            project_id: 'p',
            user_id: 'u',
            consumer_generation: 1,
          },
          exchange: exchange('/allocations/i1'),
        },
      ],
    ]),
  };
  return s;
}

function failure(s: Snapshot): StepFailure {
  try {
    checkInvariants(s);
  } catch (err) {
    if (err instanceof StepFailure) return err;
    throw err;
  }
  throw new Error('the invariants held');
}

describe('the invariants checked after every workload step', () => {
  it('hold over a consistent tree filled to its capacity exactly', () => {
    expect(() => checkInvariants(cloud())).not.toThrow();
  });

  it('a root that names another root, and a child outside its parent’s tree', () => {
    const s = cloud();
    s.all.get('r')!.root = 'c';
    expect(failure(s).message).toMatch(/r \(cn1\) has no parent but its root is c/);
    const t = cloud();
    t.all.set('x', { uuid: 'x', name: 'other', generation: 0, parent: null, root: 'x' });
    t.all.get('c')!.root = 'x';
    expect(failure(t).message).toMatch(/its parent r is in the tree of r/);
    expect(failure(t).exchange!.path).toBe('/resource_providers');
  });

  it('usage beyond (total − reserved) × ratio, or without inventory, with the usages request', () => {
    const s = cloud();
    s.providers.get('c')!.usages['MEMORY_MB'] = 513;
    const f = failure(s);
    expect(f.message).toMatch(
      /uses 513 MEMORY_MB of a capacity of 512 \(\(total 1024 − reserved 512\) × 1\)/,
    );
    expect(f.exchange!.path).toBe('/resource_providers/c/usages');
    const t = cloud();
    t.providers.get('c')!.usages['DISK_GB'] = 1;
    t.providers.get('c')!.allocations['i1']!['DISK_GB'] = 1;
    t.consumers.get('i1')!.view.allocations['c']!.resources['DISK_GB'] = 1;
    expect(failure(t).message).toMatch(/1 DISK_GB in use but no DISK_GB inventory/);
  });

  it('usages that are not the sum of the allocations', () => {
    const s = cloud();
    s.providers.get('r')!.usages['VCPU'] = 12;
    expect(failure(s).message).toMatch(/reports 12 VCPU used, but its allocations hold 16/);
  });

  it('an allocation the consumer and the provider show differently', () => {
    const s = cloud();
    s.providers.get('r')!.allocations['i1'] = { VCPU: 15 };
    expect(failure(s).message).toMatch(/provider r shows consumer i1 holding \{"VCPU":15\}/);
    const t = cloud();
    t.consumers.get('i1')!.view.allocations['gone'] = { resources: { VCPU: 1 } };
    expect(failure(t).message).toMatch(
      /holds allocations on gone, which GET \/resource_providers does not list/,
    );
  });
});

describe("the scheduler's query", () => {
  const ctx = { ownTrait: undefined } as unknown as WorkloadContext;

  it('is sorted and encoded as nova sends it', () => {
    const q = novaQuery(ctx, {
      name: 'f',
      resources: { VCPU: 2, MEMORY_MB: 2048, DISK_GB: 20, VGPU: 0 },
      required: ['CUSTOM_GOLD'],
      memberOf: ['a1', 'a2'],
    });
    expect(q).toBe(
      'limit=1000&member_of=in%3Aa1%2Ca2&required=CUSTOM_GOLD&resources=DISK_GB%3A20%2CMEMORY_MB%3A2048%2CVCPU%3A2&root_required=!COMPUTE_STATUS_DISABLED',
    );
  });

  it('requires the run’s own trait on a live service; a granular group alone has no unsuffixed resources', () => {
    const own = { ownTrait: 'CUSTOM_OWN' } as unknown as WorkloadContext;
    const q = novaQuery(
      own,
      { name: 'g', resources: {}, required: [], memberOf: [], granular: { '1': { VGPU: 1 } } },
      { in_tree1: 'r' },
    );
    expect(q).toBe(
      'in_tree1=r&limit=1000&required=CUSTOM_OWN&resources1=VGPU%3A1&root_required=!COMPUTE_STATUS_DISABLED',
    );
  });
});

describe('the seeded draw', () => {
  it('repeats for a seed and differs between seeds', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect(shuffled(items, seededRandom(1))).toEqual(shuffled(items, seededRandom(1)));
    expect(shuffled(items, seededRandom(1))).not.toEqual(shuffled(items, seededRandom(2)));
    expect([...shuffled(items, seededRandom(3))].sort((a, b) => a - b)).toEqual(items);
  });
});

describe('--endpoint', () => {
  it('takes http and https URLs only, without credentials', () => {
    expect(parseEndpoint('https://cloud.example.com/placement').pathname).toBe('/placement');
    expect(() => parseEndpoint('controller:8778')).toThrow(/must be an http or https URL/);
    expect(() => parseEndpoint('not a url')).toThrow(/is not a URL/);
    expect(() => parseEndpoint('http://u:p@h:8778')).toThrow(/must not carry a user or password/);
  });
});
