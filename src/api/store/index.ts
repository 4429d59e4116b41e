/**
 * Data access for the embedded Placement API: the queries placement's
 * objects run, one store per resource, over any engine the project
 * supports. The SQL keeps placement's joins (inner joins to roots,
 * consumers, projects and users) because which rows they hide is part of
 * what the API answers. Anything that differs between engines is asked of
 * the dialect.
 *
 * Reads run on the pool. A write runs in `transaction()`: every store of
 * the PlacementStore it is handed is bound to that one transaction, so the
 * generation compare-and-swaps and the rows they guard commit together or
 * not at all. Nothing is cached between requests: several servers (ours
 * or placement itself) may share the database.
 */
import type { Knex } from 'knex';
import type { Database } from '../../db/connect.js';
import { retryOnConflict } from '../../db/transaction.js';
import { AggregateStore } from './aggregates.js';
import { AllocationStore } from './allocations.js';
import { Access, SchemaFacts } from './base.js';
import { ClassStore, type ClassStoreOptions } from './classes.js';
import { ConsumerStore } from './consumers.js';
import { InventoryStore } from './inventories.js';
import { ProviderStore } from './providers.js';
import { CandidateStore } from './candidates.js';
import { SearchStore } from './search.js';
import { TraitStore } from './traits.js';
import { UsageStore } from './usages.js';

export { isStorable, MAX_INT, type DbTime, type NamedRow } from './base.js';
export type { ConsumerAllocationRow, ProviderAllocationRow } from './allocations.js';
export type { CapacityRow, NewAllocation } from './allocations.js';
export type { ConsumerLinks, ConsumerRow } from './consumers.js';
export type { InventoryRow } from './inventories.js';
export type { ProviderFilter, ProviderRow } from './providers.js';
export type { TypedUsageRow, UsageRow } from './usages.js';

export type StoreOptions = ClassStoreOptions;

export class PlacementStore {
  readonly providers: ProviderStore;
  readonly inventories: InventoryStore;
  readonly allocations: AllocationStore;
  readonly traits: TraitStore;
  readonly classes: ClassStore;
  readonly aggregates: AggregateStore;
  readonly usages: UsageStore;
  readonly search: SearchStore;
  readonly candidates: CandidateStore;
  readonly consumers: ConsumerStore;
  /** The statements' executor: the pool, or the transaction of a write. */
  readonly access: Access;

  constructor(
    readonly db: Database,
    private readonly options: StoreOptions = {},
    schema: SchemaFacts = new SchemaFacts(db),
    knex: Knex = db.knex,
  ) {
    this.access = new Access(db, knex, schema);
    this.providers = new ProviderStore(this.access);
    this.inventories = new InventoryStore(this.access);
    this.allocations = new AllocationStore(this.access);
    this.traits = new TraitStore(this.access);
    this.classes = new ClassStore(this.access, options);
    this.aggregates = new AggregateStore(this.access);
    this.usages = new UsageStore(this.access);
    this.search = new SearchStore(this.access);
    this.candidates = new CandidateStore(this.access);
    this.consumers = new ConsumerStore(this.access);
  }

  /** Whether the schema has consumer_types (revision 422ece571366, Xena, and later). */
  hasConsumerTypes(): Promise<boolean> {
    return this.access.schema.hasConsumerTypes();
  }

  /**
   * Runs `work` in one transaction with every store bound to it; commits
   * when it returns, rolls back when it throws. A deadlock, lock timeout or
   * busy SQLite file runs it again from the start (placement retries
   * deadlocks the same way), so `work` must do nothing outside the
   * database that it could not repeat.
   */
  transaction<T>(work: (tx: PlacementStore) => Promise<T>): Promise<T> {
    return retryOnConflict(this.db, () =>
      this.db.knex.transaction((trx) =>
        work(new PlacementStore(this.db, this.options, this.access.schema, trx)),
      ),
    );
  }
}
