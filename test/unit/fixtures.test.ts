import { describe, expect, it } from 'vitest';
import { planCloud, RC, capacity, standardTraits } from '../../src/fixtures/cloud.js';
import {
  defaultFlaws,
  FLAW_NAMES,
  NOVA_RELEASES,
  novaPlacementTables,
  novaApiTables,
  parseFlawSwitches,
  Prng,
  resolveFlaws,
  resolveNovaRelease,
  resolveSizes,
  checkEngine,
} from '../../src/fixtures/index.js';

const columns = (release: string, table: string) =>
  novaPlacementTables(release)
    .find((t) => t.name === table)
    ?.columns.map((c) => c.name);

describe('Prng', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const p = new Prng(seed);
      return [p.uint32(), p.uint32(), p.uuid(), p.hex32(), p.int(1, 6), p.float()];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('makes version-4 UUIDs and keystone-style hex ids', () => {
    const p = new Prng(1);
    for (let i = 0; i < 200; i++) {
      expect(p.uuid()).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(p.hex32()).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('keeps int() within its bounds and covers them', () => {
    const p = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = p.int(3, 8);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(8);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7, 8]);
  });
});

describe('nova_api schema per release', () => {
  it('has the placement tables nova had at each release', () => {
    const names = (r: string) =>
      novaPlacementTables(r)
        .map((t) => t.name)
        .sort();
    expect(names('newton')).toEqual(
      ['allocations', 'inventories', 'resource_provider_aggregates', 'resource_providers'].sort(),
    );
    expect(names('ocata')).toEqual(
      [...names('newton'), 'placement_aggregates', 'resource_classes'].sort(),
    );
    expect(names('pike')).toEqual(
      [
        ...names('ocata'),
        'consumers',
        'projects',
        'resource_provider_traits',
        'traits',
        'users',
      ].sort(),
    );
    for (const r of ['queens', 'rocky', 'train', 'zed', '2025.2'])
      expect(names(r)).toEqual(names('pike'));
  });

  it('adds root/parent in Queens and consumers.generation in Rocky; can_host stays', () => {
    expect(columns('pike', 'resource_providers')).toEqual([
      'created_at',
      'updated_at',
      'id',
      'uuid',
      'name',
      'generation',
      'can_host',
    ]);
    expect(columns('queens', 'resource_providers')).toEqual([
      ...columns('pike', 'resource_providers')!,
      'root_provider_id',
      'parent_provider_id',
    ]);
    expect(columns('queens', 'consumers')).not.toContain('generation');
    expect(columns('rocky', 'consumers')).toContain('generation');
    expect(columns('2025.2', 'resource_providers')).toContain('can_host');
    // 026 and 044 put id first.
    expect(columns('pike', 'projects')).toEqual(['id', 'external_id', 'created_at', 'updated_at']);
    expect(columns('ocata', 'resource_classes')).toEqual([
      'id',
      'name',
      'created_at',
      'updated_at',
    ]);
  });

  it('marks every placement table latin1 and the name columns utf8_bin (MySQL only)', () => {
    for (const t of novaPlacementTables('train')) expect(t.charset).toBe('latin1');
    const rp = novaPlacementTables('train').find((t) => t.name === 'resource_providers')!;
    expect(rp.columns.find((c) => c.name === 'name')!.collation).toBe('utf8_bin');
    const traits = novaPlacementTables('train').find((t) => t.name === 'traits')!;
    expect(traits.columns.find((c) => c.name === 'name')!.collation).toBe('utf8_bin');
    for (const t of novaApiTables('train').filter((t) => t.name === 'cell_mappings'))
      expect(t.charset).toBe('utf8');
  });

  it('knows every release from Newton with its nova version and version tables', () => {
    expect(NOVA_RELEASES[0]).toMatchObject({ name: 'newton', nova: '14.0.0', migrateVersion: 20 });
    expect(resolveNovaRelease('Zed')).toMatchObject({
      nova: '26.0.0',
      alembicRevision: 'b30f573d3377',
    });
    expect(resolveNovaRelease('antelope').name).toBe('2023.1');
    expect(resolveNovaRelease('28.0.0')).toMatchObject({ name: '2023.2', migrateVersion: null });
    expect(resolveNovaRelease('current').name).toBe(NOVA_RELEASES[NOVA_RELEASES.length - 1]!.name);
    expect(() => resolveNovaRelease('mitaka')).toThrow(/not a nova release/);
  });
});

describe('flaw switches', () => {
  it('follow the release by default', () => {
    expect(defaultFlaws('pike')).toMatchObject({
      unsyncedTraits: true,
      nullRootProviderId: false,
      incompleteConsumers: false,
    });
    expect(defaultFlaws('queens').nullRootProviderId).toBe(true);
    expect(defaultFlaws('rocky')).toMatchObject({
      incompleteConsumers: true,
      unsyncedTraits: false,
    });
    expect(defaultFlaws('train').overCapacity).toBe(false);
  });

  it('are off where the schema cannot hold them, and before Pike every allocation lacks a consumer', () => {
    const newton = resolveFlaws('newton', {
      nullRootProviderId: true,
      allocationsWithoutConsumers: false,
    });
    expect(newton.nullRootProviderId).toBe(false);
    expect(newton.allocationsWithoutConsumers).toBe(true);
    expect(resolveFlaws('queens', { incompleteConsumers: true }).incompleteConsumers).toBe(false);
  });

  it('parse --with/--without in either spelling, "all" included', () => {
    expect(parseFlawSwitches(['orphans'], ['all'])).toEqual({
      ...Object.fromEntries(FLAW_NAMES.map((f) => [f, false])),
      orphans: true,
    });
    expect(parseFlawSwitches(['null-root-provider-id,overCapacity'])).toEqual({
      nullRootProviderId: true,
      overCapacity: true,
    });
    expect(() => parseFlawSwitches(['no-such-flaw'])).toThrow(/not a fixture flaw/);
  });
});

describe('sizes and engines', () => {
  it('default to a lab and derive hosts so that the cloud is about half full', () => {
    expect(resolveSizes({})).toMatchObject({ instances: 500, hosts: 12 });
    expect(resolveSizes({ consumers: 9000 })).toMatchObject({ instances: 9000, hosts: 200 });
    expect(resolveSizes({ allocations: 30000 })).toMatchObject({
      instances: null,
      allocations: 30000,
      hosts: 223,
    });
    expect(() => resolveSizes({ consumers: 5, allocations: 5 })).toThrow(/not both/);
    expect(() => resolveSizes({ providers: -1 })).toThrow(/whole number/);
  });

  it('plans at most 100,000 hosts, given or derived (the plan is held in memory)', () => {
    expect(resolveSizes({ providers: 100_000 }).hosts).toBe(100_000);
    expect(() => resolveSizes({ providers: 100_001 })).toThrow(/at most 100000 compute hosts/);
    expect(() => resolveSizes({ consumers: 1e9 })).toThrow(
      /--consumers 1000000000 would need about 22222223 compute hosts/,
    );
  });

  it('checks --engine against the URL', () => {
    expect(() => checkEngine('mysql', 'mariadb')).not.toThrow();
    expect(() => checkEngine('postgresql', undefined)).not.toThrow();
    expect(() => checkEngine('sqlite', 'postgresql')).toThrow(/does not match/);
  });
});

describe('planCloud', () => {
  const plan = (release: string, seed = 5, hosts = 60) =>
    planCloud(new Prng(seed), {
      release,
      hosts,
      expectedInstances: hosts * 25,
      flaws: resolveFlaws(release),
    });

  it('is deterministic for a seed', () => {
    const strip = (p: ReturnType<typeof plan>) =>
      JSON.stringify(
        p.providers.map((x) => [
          x.id,
          x.uuid,
          x.name,
          x.kind,
          x.createdAt,
          x.nullRoot,
          x.inventories,
          x.traits,
        ]),
      );
    expect(strip(plan('queens'))).toBe(strip(plan('queens')));
    expect(strip(plan('queens', 6))).not.toBe(strip(plan('queens')));
  });

  it('builds a Queens cloud: NUMA and GPU children, shared storage, Ironic with one custom class', () => {
    const p = plan('queens');
    const kinds = (k: string) => p.providers.filter((x) => x.kind === k);
    expect(kinds('numa').length).toBeGreaterThan(0);
    expect(kinds('gpu').length).toBeGreaterThan(0);
    expect(kinds('sharing').length).toBeGreaterThan(0);
    for (const n of [...kinds('numa'), ...kinds('gpu')]) {
      expect(n.parent?.kind).toBe('compute');
      expect(n.parent!.nullRoot).toBe(false);
      expect(n.id).toBeGreaterThan(n.parent!.id);
    }
    for (const s of kinds('sharing')) {
      expect(s.traits).toContain('MISC_SHARES_VIA_AGGREGATE');
      expect(s.inventories.map((i) => i.rc)).toEqual([RC.DISK_GB]);
    }
    for (const i of kinds('ironic')) {
      expect(i.inventories).toHaveLength(1);
      expect(i.inventories[0]!.rc).toBeGreaterThanOrEqual(10000);
      expect(i.inventories[0]).toMatchObject({ total: 1, maxUnit: 1 });
    }
    for (const c of kinds('compute')) {
      for (const inv of c.inventories) {
        expect(capacity(inv)).toBeGreaterThan(0);
        expect(inv.maxUnit).toBe(inv.total);
      }
    }
    // Ids are unique and increase with creation time.
    const ids = p.providers.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(p.deletedProviderIds.every((d) => !ids.includes(d))).toBe(true);
  });

  it('has no children before Queens and only standard Ironic inventory in Newton', () => {
    const newton = plan('newton');
    expect(newton.providers.some((x) => x.parent)).toBe(false);
    expect(newton.resourceClasses).toEqual([]);
    for (const i of newton.providers.filter((x) => x.kind === 'ironic'))
      expect(i.inventories.map((v) => v.rc)).toEqual([RC.VCPU, RC.MEMORY_MB, RC.DISK_GB]);
    expect(plan('pike').providers.some((x) => x.parent)).toBe(false);
  });

  it('syncs the whole os-traits list from Rocky, and only what is used in Pike', () => {
    const rocky = plan('rocky').traits.map((t) => t.name);
    expect(rocky.slice(0, standardTraits().length)).toEqual(standardTraits());
    const pike = plan('pike').traits.map((t) => t.name);
    expect(pike.length).toBeLessThan(20);
    expect(pike).toContain('MISC_SHARES_VIA_AGGREGATE');
  });

  it.each([[3, 300], ...Array.from({ length: 40 }, (_, i): [number, number] => [100 + i, 24 + i])])(
    'names a few providers with non-ASCII characters and a stale twin differing only in case (seed %i, %i hosts)',
    (seed, hosts) => {
      const p = plan('train', seed, hosts);
      const names = p.providers.map((x) => x.name);
      expect(p.planted.nonAsciiNames).toBeGreaterThan(0);
      expect(p.planted.caseVariantPairs).toBeGreaterThan(0);
      expect(names.filter((n) => /[^ -~]/.test(n))).toHaveLength(p.planted.nonAsciiNames);
      const lower = new Map<string, number>();
      for (const n of names) lower.set(n.toLowerCase(), (lower.get(n.toLowerCase()) ?? 0) + 1);
      expect([...lower.values()].filter((v) => v === 2)).toHaveLength(p.planted.caseVariantPairs);
      expect(new Set(names).size).toBe(names.length);
    },
  );
});
