/**
 * What the Placement API must show after a migration, computed from the
 * nova_api rows alone (nothing here uses the API's code): the source data
 * with the changes a migration may make — a provider without a root becomes
 * its own root; allocations without a consumer row get a consumer of the
 * configured "incomplete" project and user, generation 0, no type.
 */
import type { NovaPlacementData, SourceProvider } from './nova-source.js';

export interface IncompleteConsumerIds {
  projectId: string;
  userId: string;
}

/** placement's defaults for [placement] incomplete_consumer_project_id / _user_id. */
export const DEFAULT_INCOMPLETE: IncompleteConsumerIds = {
  projectId: '00000000-0000-0000-0000-000000000000',
  userId: '00000000-0000-0000-0000-000000000000',
};

export interface InventoryView {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

/**
 * A route that cannot answer because the source itself references a
 * resource class that does not exist: placement answers 404 there too.
 */
export interface BrokenRoute {
  status: 404;
  reason: string;
}

export interface ExpectedProvider {
  uuid: string;
  name: string | null;
  generation: number | null;
  /** Null when the source row points at a root that does not exist (it cannot be shown). */
  rootUuid: string | null;
  parentUuid: string | null;
  inventories: Record<string, InventoryView>;
  usages: Record<string, number>;
  allocations: Record<string, { resources: Record<string, number>; consumer_generation: number }>;
  aggregates: string[];
  traits: string[];
  /** Sub-routes (inventories, usages, allocations) that fail in the source already. */
  broken: Partial<Record<'inventories' | 'usages' | 'allocations', BrokenRoute>>;
}

export interface ExpectedConsumer {
  uuid: string;
  allocations: Record<string, { generation: number | null; resources: Record<string, number> }>;
  project_id: string;
  user_id: string;
  consumer_generation: number;
  consumer_type: string;
  broken?: BrokenRoute;
}

export interface ExpectedProject {
  externalId: string;
  usages: Record<string, number>;
  consumerCount: number;
  broken?: BrokenRoute;
}

export interface ExpectedCloud {
  providers: Map<string, ExpectedProvider>;
  consumers: Map<string, ExpectedConsumer>;
  projects: Map<string, ExpectedProject>;
  customClasses: string[];
  /** Source rows no API route can show (dangling references), counted for the report. */
  unreachable: { inventories: number; allocations: number; consumers: number };
}

interface ConsumerOwner {
  projectId: string | null;
  userId: string | null;
  generation: number;
}

/**
 * Builds the expectations. `standardClasses` is os-resource-classes in
 * order: a standard class's id is its index.
 */
export function expectedFromSource(
  src: NovaPlacementData,
  standardClasses: readonly string[],
  incomplete: IncompleteConsumerIds = DEFAULT_INCOMPLETE,
): ExpectedCloud {
  const className = (id: number) =>
    src.customClasses.get(id) ?? standardClasses[id] ?? `UNKNOWN_RESOURCE_CLASS_${id}`;
  const unknownClass = (id: number): BrokenRoute | undefined =>
    src.customClasses.has(id) || id < standardClasses.length
      ? undefined
      : { status: 404, reason: `resource class id ${id} does not exist (in the source already)` };
  const byId = new Map<number, SourceProvider>(src.providers.map((p) => [p.id, p]));
  const unreachable = { inventories: 0, allocations: 0, consumers: 0 };

  const providers = new Map<string, ExpectedProvider>();
  const providerOf = new Map<number, ExpectedProvider>();
  for (const p of src.providers) {
    const rootId = p.rootProviderId ?? p.id;
    const parentId = p.parentProviderId ?? null;
    const e: ExpectedProvider = {
      uuid: p.uuid,
      name: p.name,
      generation: p.generation,
      rootUuid: byId.get(rootId)?.uuid ?? null,
      parentUuid: parentId === null ? null : (byId.get(parentId)?.uuid ?? null),
      inventories: {},
      usages: {},
      allocations: {},
      aggregates: [],
      traits: [],
      broken: {},
    };
    providers.set(p.uuid, e);
    providerOf.set(p.id, e);
  }

  for (const inv of src.inventories) {
    const rp = providerOf.get(inv.resourceProviderId);
    if (!rp) {
      unreachable.inventories += 1;
      continue;
    }
    const rc = className(inv.resourceClassId);
    const unknown = unknownClass(inv.resourceClassId);
    if (unknown) {
      rp.broken.inventories = unknown;
      rp.broken.usages = unknown;
    }
    rp.inventories[rc] = {
      total: inv.total,
      reserved: inv.reserved,
      min_unit: inv.minUnit,
      max_unit: inv.maxUnit,
      step_size: inv.stepSize,
      allocation_ratio: inv.allocationRatio,
    };
    rp.usages[rc] = 0;
  }

  // Who owns each allocation's consumer once the migration has run.
  const owner = (consumerId: string): ConsumerOwner => {
    const c = src.consumers.get(consumerId);
    if (!c) return { projectId: incomplete.projectId, userId: incomplete.userId, generation: 0 };
    return {
      projectId: src.projects.get(c.projectId) ?? null,
      userId: src.users.get(c.userId) ?? null,
      generation: c.generation,
    };
  };

  const consumers = new Map<string, ExpectedConsumer>();
  const projects = new Map<string, ExpectedProject>();
  const projectConsumers = new Map<string, Set<string>>();
  for (const a of src.allocations) {
    const rc = className(a.resourceClassId);
    const unknown = unknownClass(a.resourceClassId);
    const rp = providerOf.get(a.resourceProviderId);
    const who = owner(a.consumerId);
    // Usages of a provider count every allocation of a class it has inventory of.
    if (rp && rc in rp.usages) rp.usages[rc]! += a.used;
    // /usages?project_id joins consumers and projects, not providers or users.
    if (who.projectId !== null) {
      const proj =
        projects.get(who.projectId) ??
        projects
          .set(who.projectId, { externalId: who.projectId, usages: {}, consumerCount: 0 })
          .get(who.projectId)!;
      proj.usages[rc] = (proj.usages[rc] ?? 0) + a.used;
      if (unknown) proj.broken = unknown;
      const set = projectConsumers.get(who.projectId) ?? new Set<string>();
      set.add(a.consumerId);
      projectConsumers.set(who.projectId, set);
    }
    // Allocation listings join consumers, projects and users.
    const visible = who.projectId !== null && who.userId !== null;
    if (!visible || !rp) {
      unreachable.allocations += 1;
      continue;
    }
    if (unknown) rp.broken.allocations = unknown;
    const perRp = (rp.allocations[a.consumerId] ??= {
      resources: {},
      consumer_generation: who.generation,
    });
    perRp.resources[rc] = a.used;
    const c =
      consumers.get(a.consumerId) ??
      consumers
        .set(a.consumerId, {
          uuid: a.consumerId,
          allocations: {},
          project_id: who.projectId!,
          user_id: who.userId!,
          consumer_generation: who.generation,
          consumer_type: 'unknown',
        })
        .get(a.consumerId)!;
    if (unknown) c.broken = unknown;
    const perConsumer = (c.allocations[rp.uuid] ??= { generation: rp.generation, resources: {} });
    perConsumer.resources[rc] = a.used;
  }
  for (const [project, set] of projectConsumers) projects.get(project)!.consumerCount = set.size;
  const allocated = new Set(src.allocations.map((a) => a.consumerId));
  for (const uuid of src.consumers.keys()) if (!allocated.has(uuid)) unreachable.consumers += 1;

  for (const link of src.providerAggregates) {
    const rp = providerOf.get(link.resourceProviderId);
    const agg = src.aggregates.get(link.aggregateId);
    if (rp && agg !== undefined) rp.aggregates.push(agg);
  }
  for (const link of src.providerTraits) {
    const rp = providerOf.get(link.resourceProviderId);
    const trait = src.traits.get(link.traitId);
    if (rp && trait !== undefined) rp.traits.push(trait);
  }

  return {
    providers,
    consumers,
    projects,
    customClasses: [...src.customClasses.values()],
    unreachable,
  };
}
