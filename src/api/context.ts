/**
 * What a handler gets: the negotiated microversion, the caller, the store,
 * and per-request caches of resource classes, traits and consumer types
 * (placement's attribute caches: loaded once per request, so several
 * stateless instances can share one database).
 */
import type { Version } from './microversion.js';
import type { NamedRow, PlacementStore } from './store/index.js';
import type { QueryParams } from './query.js';
import { DEFAULT_PLACEMENT_SETTINGS, type PlacementSettings } from './placement-settings.js';

/**
 * A lookup that found nothing, as placement's NotFound exceptions: handlers
 * may turn it into a 400; otherwise the pipeline answers 404.
 */
export class ObjectNotFound extends Error {
  constructor(
    message: string,
    readonly kind: 'resource_class' | 'trait' | 'consumer_type' | 'provider' | 'other' = 'other',
  ) {
    super(message);
  }
}

/** Name ↔ id lookups over one table, exact and case-sensitive like placement's dicts. */
/** An id and its name: all that name lookups need. */
export interface Named {
  id: number;
  name: string;
}

interface NameIndex {
  byName: Map<string, Named>;
  byId: Map<number, Named>;
}

export class AttributeCache {
  private rows: NamedRow[] | undefined;
  /** The load in flight, so that reads started side by side query once. */
  private loading: Promise<NamedRow[]> | undefined;
  private byName = new Map<string, NamedRow>();
  private byId = new Map<number, NamedRow>();

  /** The names-only load in flight or done (loadNames), when the whole rows are not loaded. */
  private names: Promise<NameIndex> | undefined;

  constructor(
    private readonly load: () => Promise<NamedRow[]>,
    private readonly notFound: (key: string | number) => ObjectNotFound,
    /**
     * Ids and names alone, for the lookups that need no more (a search
     * names traits; its summaries write them): cheaper than whole rows.
     */
    private readonly loadNames?: () => Promise<Named[]>,
  ) {}

  /** Ids and names, from the whole rows when they are loaded, or from loadNames. */
  private async nameIndex(): Promise<NameIndex> {
    if (this.rows || !this.loadNames) {
      await this.all();
      return { byName: this.byName, byId: this.byId };
    }
    this.names ??= this.loadNames().then((rows) => ({
      byName: new Map(rows.map((r) => [r.name, r])),
      byId: new Map(rows.map((r) => [r.id, r])),
    }));
    try {
      return await this.names;
    } catch (err) {
      this.names = undefined;
      throw err;
    }
  }

  /** The ObjectNotFound a lookup of `key` throws, for a caller that found it missing itself. */
  missing(key: string | number): ObjectNotFound {
    return this.notFound(key);
  }

  async all(): Promise<NamedRow[]> {
    if (this.rows) return this.rows;
    this.loading ??= this.load().then((rows) => {
      this.rows = rows;
      this.byName = new Map(rows.map((r) => [r.name, r]));
      this.byId = new Map(rows.map((r) => [r.id, r]));
      return rows;
    });
    try {
      return await this.loading;
    } catch (err) {
      this.loading = undefined;
      throw err;
    }
  }

  async byNameOrThrow(name: string): Promise<NamedRow> {
    await this.all();
    const row = this.byName.get(name);
    if (!row) throw this.notFound(name);
    return row;
  }

  async idOf(name: string): Promise<number> {
    const row = (await this.nameIndex()).byName.get(name);
    if (!row) throw this.notFound(name);
    return row.id;
  }

  /** A synchronous id → name lookup over the loaded rows (for loops over thousands of rows). */
  async namesById(): Promise<(id: number) => string> {
    const { byId } = await this.nameIndex();
    return (id) => {
      const row = byId.get(id);
      if (!row) throw this.notFound(id);
      return row.name;
    };
  }

  async nameOf(id: number): Promise<string> {
    const row = (await this.nameIndex()).byId.get(id);
    if (!row) throw this.notFound(id);
    return row.name;
  }

  async rowOf(id: number): Promise<NamedRow> {
    await this.all();
    const row = this.byId.get(id);
    if (!row) throw this.notFound(id);
    return row;
  }
}

/** The caller, as noauth2 or the operator's token made it. */
export interface Caller {
  userId: string;
  projectId: string;
  roles: string[];
  systemScope?: string;
}

export class RequestContext {
  readonly resourceClasses: AttributeCache;
  readonly traits: AttributeCache;
  readonly consumerTypes: AttributeCache;

  constructor(
    readonly store: PlacementStore,
    readonly version: Version,
    readonly query: QueryParams,
    readonly params: Record<string, string>,
    readonly caller: Caller | undefined,
    /** The raw request body (write routes parse it against their schema). */
    readonly body: Uint8Array | string = '',
    /** The request's headers, names in lower case (Location needs Host). */
    readonly headers: Record<string, string | undefined> = {},
    /** placement.conf's [placement] options of allocation writes. */
    readonly settings: PlacementSettings = DEFAULT_PLACEMENT_SETTINGS,
  ) {
    this.resourceClasses = new AttributeCache(
      () => store.classes.resourceClasses(),
      (k) => new ObjectNotFound(`No such resource class ${k}.`, 'resource_class'),
    );
    this.traits = new AttributeCache(
      () => store.traits.all(),
      (k) => new ObjectNotFound(`No such trait(s): ${k}.`, 'trait'),
      () => store.traits.names(),
    );
    this.consumerTypes = new AttributeCache(
      () => store.classes.consumerTypes(),
      (k) => new ObjectNotFound(`No such consumer type: ${k}.`, 'consumer_type'),
    );
  }

  /**
   * A Location header's value: WebOb makes placement's relative URLs
   * absolute against the request's Host (dropping an explicit :80).
   */
  absoluteUrl(path: string): string {
    const base = `http://${this.headers['host'] ?? 'localhost'}`;
    return `${base.endsWith(':80') ? base.slice(0, -3) : base}${path}`;
  }

  /** A path parameter of the matched route. */
  param(name: string): string {
    return this.params[name] ?? '';
  }

  /** The name of a consumer's type; consumers without one are "unknown". */
  async consumerTypeName(id: number | null): Promise<string> {
    return id === null ? 'unknown' : this.consumerTypes.nameOf(id);
  }
}
