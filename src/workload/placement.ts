/**
 * The Placement API as nova's report client calls it: each read and write at
 * the microversion nova 2023.x sends (GET /allocation_candidates and the
 * claim at 1.36, consumer generations at 1.28, inventories at 1.26, new
 * providers at 1.20, aggregates at 1.19, trees at 1.14, traits at 1.6, the
 * reshaper at 1.30, provider inventories and allocations and forced
 * deletes with no version at all). Answers are parsed into the shapes the
 * steps need; an unexpected status fails the step with its exchange.
 */
import type { INVENTORY_FIELDS } from '../api/store/inventories.js';
import type { CallOptions, Exchange, PlacementClient } from './client.js';
import { expectStatus, StepFailure } from './failure.js';

export const NOVA = {
  candidates: '1.36',
  claim: '1.36',
  consumer: '1.28',
  inventories: '1.26',
  createProvider: '1.20',
  aggregates: '1.19',
  tree: '1.14',
  sharing: '1.18',
  traits: '1.6',
  reshaper: '1.30',
} as const;

export type Resources = Record<string, number>;

export interface ProviderRef {
  uuid: string;
  name: string;
  generation: number;
  parent: string | null;
  root: string;
}

/** One inventory as the API shows it: its six fields. */
export type InventoryRecord = Record<(typeof INVENTORY_FIELDS)[number], number>;

export type Inventories = Record<string, InventoryRecord>;

/** GET /allocations/{consumer} at 1.28: project, user and generation only when it exists. */
export interface ConsumerView {
  allocations: Record<string, { resources: Resources; generation?: number }>;
  project_id?: string;
  user_id?: string;
  consumer_generation?: number;
}

export interface AllocationRequest {
  allocations: Record<string, { resources: Resources }>;
  mappings?: Record<string, string[]>;
}

export interface CandidatesAnswer {
  allocation_requests: AllocationRequest[];
  provider_summaries: Record<
    string,
    {
      resources: Record<string, { capacity: number; used: number }>;
      traits?: string[];
      parent_provider_uuid?: string | null;
      root_provider_uuid?: string;
    }
  >;
}

type Json = Record<string, unknown>;

function asObject(e: Exchange): Json {
  if (typeof e.body !== 'object' || e.body === null || Array.isArray(e.body)) {
    throw new StepFailure(`the answer to ${e.method} ${e.path} is not a JSON object`, e);
  }
  return e.body as Json;
}

function providerRef(p: Json): ProviderRef {
  return {
    uuid: String(p['uuid']),
    name: String(p['name']),
    generation: Number(p['generation']),
    parent: (p['parent_provider_uuid'] as string | null | undefined) ?? null,
    root: String(p['root_provider_uuid'] ?? p['uuid']),
  };
}

const enc = encodeURIComponent;

/** The run was interrupted (Ctrl-C, SIGTERM) before its next request. */
export class WorkloadInterrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'WorkloadInterrupted';
  }
}

/** One client, counted; the calls nova makes, typed. */
export class NovaPlacement {
  requests = 0;
  /** Every exchange of the current step, newest last (the report shows the failing one). */
  exchanges: Exchange[] = [];

  constructor(
    readonly client: PlacementClient,
    private readonly signal?: AbortSignal,
  ) {}

  async call(method: string, path: string, options?: CallOptions): Promise<Exchange> {
    // Ctrl-C lands between requests: never half-way through nova's sequence of one.
    if (this.signal?.aborted) throw new WorkloadInterrupted();
    const e = await this.client.call(method, path, options);
    this.requests += 1;
    this.exchanges.push(e);
    if (this.exchanges.length > 200) this.exchanges.splice(0, 100);
    return e;
  }

  async root(): Promise<{ min: string; max: string }> {
    const e = expectStatus(await this.call('GET', '/'), 200);
    const versions = asObject(e)['versions'] as Json[] | undefined;
    const v = versions?.[0];
    if (!v || typeof v['max_version'] !== 'string') {
      throw new StepFailure("GET / did not answer with placement's version document", e);
    }
    return { min: String(v['min_version']), max: String(v['max_version']) };
  }

  async providers(query = '', version: string = NOVA.tree): Promise<ProviderRef[]> {
    const e = expectStatus(
      await this.call('GET', `/resource_providers${query ? `?${query}` : ''}`, { version }),
      200,
    );
    return ((asObject(e)['resource_providers'] as Json[]) ?? []).map(providerRef);
  }

  tree(uuid: string): Promise<ProviderRef[]> {
    return this.providers(`in_tree=${enc(uuid)}`);
  }

  async provider(uuid: string): Promise<ProviderRef | null> {
    const e = expectStatus(
      await this.call('GET', `/resource_providers/${enc(uuid)}`, { version: NOVA.tree }),
      200,
      404,
    );
    return e.status === 404 ? null : providerRef(asObject(e));
  }

  async inventories(uuid: string): Promise<{ generation: number; inventories: Inventories }> {
    const e = expectStatus(
      await this.call('GET', `/resource_providers/${enc(uuid)}/inventories`),
      200,
    );
    const b = asObject(e);
    return {
      generation: Number(b['resource_provider_generation']),
      inventories: (b['inventories'] as Inventories) ?? {},
    };
  }

  async usages(uuid: string): Promise<{ generation: number; usages: Resources }> {
    const e = expectStatus(await this.call('GET', `/resource_providers/${enc(uuid)}/usages`), 200);
    const b = asObject(e);
    return {
      generation: Number(b['resource_provider_generation']),
      usages: (b['usages'] as Resources) ?? {},
    };
  }

  async providerAllocations(
    uuid: string,
  ): Promise<{ generation: number; allocations: Record<string, Resources>; exchange: Exchange }> {
    const e = expectStatus(
      await this.call('GET', `/resource_providers/${enc(uuid)}/allocations`),
      200,
    );
    const b = asObject(e);
    const raw = (b['allocations'] as Record<string, { resources: Resources }>) ?? {};
    return {
      generation: Number(b['resource_provider_generation']),
      allocations: Object.fromEntries(Object.entries(raw).map(([c, a]) => [c, a.resources])),
      exchange: e,
    };
  }

  async traits(uuid: string): Promise<{ generation: number; traits: string[] }> {
    const e = expectStatus(
      await this.call('GET', `/resource_providers/${enc(uuid)}/traits`, { version: NOVA.traits }),
      200,
    );
    const b = asObject(e);
    return {
      generation: Number(b['resource_provider_generation']),
      traits: (b['traits'] as string[]) ?? [],
    };
  }

  async aggregates(uuid: string): Promise<{ generation: number; aggregates: string[] }> {
    const e = expectStatus(
      await this.call('GET', `/resource_providers/${enc(uuid)}/aggregates`, {
        version: NOVA.aggregates,
      }),
      200,
    );
    const b = asObject(e);
    return {
      generation: Number(b['resource_provider_generation']),
      aggregates: (b['aggregates'] as string[]) ?? [],
    };
  }

  async consumer(uuid: string): Promise<{ view: ConsumerView; exchange: Exchange }> {
    const e = expectStatus(
      await this.call('GET', `/allocations/${enc(uuid)}`, { version: NOVA.consumer }),
      200,
    );
    return { view: asObject(e) as unknown as ConsumerView, exchange: e };
  }

  async candidates(query: string): Promise<{ answer: CandidatesAnswer; exchange: Exchange }> {
    const e = expectStatus(
      await this.call('GET', `/allocation_candidates?${query}`, { version: NOVA.candidates }),
      200,
    );
    const b = asObject(e) as unknown as CandidatesAnswer;
    if (!Array.isArray(b.allocation_requests) || typeof b.provider_summaries !== 'object') {
      throw new StepFailure('GET /allocation_candidates answered without its two members', e);
    }
    return { answer: b, exchange: e };
  }

  /** PUT /allocations/{consumer}: 204, or the 409 the caller decides about. */
  putAllocations(consumer: string, body: unknown, version: string = NOVA.claim): Promise<Exchange> {
    return this.call('PUT', `/allocations/${enc(consumer)}`, { version, body });
  }

  postAllocations(body: unknown): Promise<Exchange> {
    return this.call('POST', '/allocations', { version: NOVA.consumer, body });
  }

  /** The forced delete nova-compute does when an instance is deleted (no microversion). */
  deleteAllocations(consumer: string): Promise<Exchange> {
    return this.call('DELETE', `/allocations/${enc(consumer)}`);
  }

  putInventories(uuid: string, generation: number, inventories: Inventories): Promise<Exchange> {
    return this.call('PUT', `/resource_providers/${enc(uuid)}/inventories`, {
      version: NOVA.inventories,
      body: { resource_provider_generation: generation, inventories },
    });
  }

  async createProvider(body: {
    uuid?: string;
    name: string;
    parent_provider_uuid?: string;
  }): Promise<ProviderRef> {
    const e = expectStatus(
      await this.call('POST', '/resource_providers', { version: NOVA.createProvider, body }),
      200,
    );
    return providerRef(asObject(e));
  }

  deleteProvider(uuid: string): Promise<Exchange> {
    return this.call('DELETE', `/resource_providers/${enc(uuid)}`);
  }

  reshape(body: unknown): Promise<Exchange> {
    return this.call('POST', '/reshaper', { version: NOVA.reshaper, body });
  }

  putTrait(name: string): Promise<Exchange> {
    return this.call('PUT', `/traits/${enc(name)}`, { version: NOVA.traits });
  }

  deleteTrait(name: string): Promise<Exchange> {
    return this.call('DELETE', `/traits/${enc(name)}`, { version: NOVA.traits });
  }

  putAggregates(uuid: string, generation: number, aggregates: string[]): Promise<Exchange> {
    return this.call('PUT', `/resource_providers/${enc(uuid)}/aggregates`, {
      version: NOVA.aggregates,
      body: { resource_provider_generation: generation, aggregates },
    });
  }

  putProviderTraits(uuid: string, generation: number, traits: string[]): Promise<Exchange> {
    return this.call('PUT', `/resource_providers/${enc(uuid)}/traits`, {
      version: NOVA.traits,
      body: { resource_provider_generation: generation, traits },
    });
  }
}
