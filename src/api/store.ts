/**
 * Data access for the embedded Placement API: the queries placement's
 * objects run, one method each, over any engine the project supports. The
 * SQL keeps placement's joins (inner joins to roots, consumers, projects and
 * users) because which rows they hide is part of what the API answers.
 * Anything that differs between engines is asked of the dialect.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import { standardResourceClasses } from '../standard/standard-names.js';

/** A timestamp as the driver returned it (text, or a number from SQLite). */
export type DbTime = string | number | Date | null;

export interface ProviderRow {
  id: number;
  uuid: string;
  name: string | null;
  generation: number | null;
  root_provider_uuid: string | null;
  parent_provider_uuid: string | null;
  updated_at: DbTime;
  created_at: DbTime;
}

/** A row of resource_classes, traits or consumer_types. */
export interface NamedRow {
  id: number;
  name: string;
  updated_at: DbTime;
  created_at: DbTime;
}

export interface InventoryRow {
  resource_class_id: number;
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
  updated_at: DbTime;
  created_at: DbTime;
}

export interface ProviderAllocationRow {
  resource_class_id: number;
  used: number;
  consumer_uuid: string;
  consumer_generation: number | null;
  updated_at: DbTime;
  created_at: DbTime;
}

export interface ConsumerAllocationRow {
  resource_provider_uuid: string;
  resource_provider_generation: number | null;
  resource_class_id: number;
  used: number;
  consumer_generation: number | null;
  consumer_type_id: number | null;
  project_external_id: string;
  user_external_id: string;
  updated_at: DbTime;
  created_at: DbTime;
}

export interface UsageRow {
  resource_class_id: number;
  used: number;
}

export interface TypedUsageRow extends UsageRow {
  consumer_type: string | null;
}

export interface ProviderFilter {
  name?: string;
  uuid?: string;
  rootId?: number;
}

/** placement's MAX_INT (db/constants.py): its integer columns are 32-bit INTs on every engine. */
export const MAX_INT = 0x7fffffff;
const MIN_INT = -0x80000000;

/**
 * Whether a value from a request could equal something placement stores:
 * text without NUL (PostgreSQL's text types cannot hold U+0000, so placement
 * data, which moves between engines, never holds it) and integers an INT
 * column holds. Anything else matches no row on any engine.
 */
export function isStorable(value: unknown): boolean {
  if (typeof value === 'string') return !value.includes('\u0000');
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= MIN_INT && value <= MAX_INT;
  return true;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

const PROVIDER_COLUMNS = `rp.id, rp.uuid, rp.name, rp.generation, rp.updated_at, rp.created_at,
  root.uuid AS root_provider_uuid, parent.uuid AS parent_provider_uuid`;
const PROVIDER_FROM = `resource_providers rp
  JOIN resource_providers root ON rp.root_provider_id = root.id
  LEFT JOIN resource_providers parent ON rp.parent_provider_id = parent.id`;

function providerRow(r: Record<string, unknown>): ProviderRow {
  return {
    id: num(r['id']),
    uuid: String(r['uuid']),
    name: (r['name'] as string | null) ?? null,
    generation: numOrNull(r['generation']),
    root_provider_uuid: (r['root_provider_uuid'] as string | null) ?? null,
    parent_provider_uuid: (r['parent_provider_uuid'] as string | null) ?? null,
    updated_at: r['updated_at'] as DbTime,
    created_at: r['created_at'] as DbTime,
  };
}

function namedRow(r: Record<string, unknown>): NamedRow {
  return {
    id: num(r['id']),
    name: String(r['name']),
    updated_at: r['updated_at'] as DbTime,
    created_at: r['created_at'] as DbTime,
  };
}

export interface StoreOptions {
  /**
   * Show the standard resource classes even where their rows are missing.
   * placement inserts them when it starts, so it never serves a database
   * without them; a read-only server, which must not insert them, shows
   * them as placement would after its start (right after a migration, say).
   */
  standardClassesIfMissing?: boolean;
}

/** Read access to a placement database, as placement's object layer reads it. */
export class PlacementStore {
  private readonly knex: Knex;
  private consumerTypesPresent: boolean | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: StoreOptions = {},
  ) {
    this.knex = db.knex;
  }

  /**
   * Every read here is a conjunction of filters, so a binding that no engine
   * can store (isStorable) matches no row: the engine is not asked.
   * PostgreSQL would fail on it (a NUL, an amount beyond its INT) where
   * MariaDB and SQLite find nothing, which is what placement answers there.
   * Methods binding a list (IN) keep only its storable values first.
   */
  private async query(sql: string, bindings: readonly unknown[] = []) {
    if (!bindings.every(isStorable)) return [];
    return this.db.dialect.rows<Record<string, unknown>>(
      await this.knex.raw(sql, bindings as Knex.RawBinding[]),
    );
  }

  /** Whether the schema has consumer_types (revision 422ece571366, Xena, and later). */
  async hasConsumerTypes(): Promise<boolean> {
    if (this.consumerTypesPresent === undefined) {
      const tables = await this.db.dialect.listTables(this.knex);
      this.consumerTypesPresent = tables.includes('consumer_types');
    }
    return this.consumerTypesPresent;
  }

  /** One provider by UUID; providers without a root row are invisible, as in placement. */
  async providerByUuid(uuid: string): Promise<ProviderRow | null> {
    const rows = await this.query(
      `SELECT ${PROVIDER_COLUMNS} FROM ${PROVIDER_FROM} WHERE rp.uuid = ?`,
      [uuid],
    );
    return rows[0] ? providerRow(rows[0]) : null;
  }

  /** Providers matching the plain column filters; the set filters are applied by the caller. */
  async listProviders(filter: ProviderFilter): Promise<ProviderRow[]> {
    const where: string[] = [];
    const bindings: unknown[] = [];
    if (filter.name !== undefined) {
      where.push('rp.name = ?');
      bindings.push(filter.name);
    }
    if (filter.uuid !== undefined) {
      where.push('rp.uuid = ?');
      bindings.push(filter.uuid);
    }
    if (filter.rootId !== undefined) {
      where.push('rp.root_provider_id = ?');
      bindings.push(filter.rootId);
    }
    const rows = await this.query(
      `SELECT ${PROVIDER_COLUMNS} FROM ${PROVIDER_FROM}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`,
      bindings,
    );
    return rows.map(providerRow);
  }

  /** The internal id and root id of a provider (research_context.provider_ids_from_uuid). */
  async providerTreeIds(uuid: string): Promise<{ id: number; rootId: number } | null> {
    const rows = await this.query(
      `SELECT me.id, root.id AS root_id FROM resource_providers me
         JOIN resource_providers root ON me.root_provider_id = root.id
        WHERE me.uuid = ?`,
      [uuid],
    );
    return rows[0] ? { id: num(rows[0]['id']), rootId: num(rows[0]['root_id']) } : null;
  }

  /** Providers having, for every group, at least one of its traits. */
  async providerIdsWithTraitGroups(groups: number[][]): Promise<Set<number>> {
    const joins: string[] = [];
    const bindings: number[] = [];
    groups.forEach((ids, i) => {
      joins.push(
        `JOIN resource_provider_traits rpt${i} ON rp.id = rpt${i}.resource_provider_id AND rpt${i}.trait_id IN (${placeholders(ids.length)})`,
      );
      bindings.push(...ids);
    });
    const rows = await this.query(
      `SELECT rp.id FROM resource_providers rp ${joins.join(' ')}`,
      bindings,
    );
    return new Set(rows.map((r) => num(r['id'])));
  }

  /** Providers having any of the traits. */
  async providerIdsWithAnyTrait(traitIds: number[]): Promise<Set<number>> {
    const rows = await this.query(
      `SELECT resource_provider_id FROM resource_provider_traits WHERE trait_id IN (${placeholders(traitIds.length)}) GROUP BY resource_provider_id`,
      traitIds,
    );
    return new Set(rows.map((r) => num(r['resource_provider_id'])));
  }

  /** Internal ids of the aggregates that exist among `uuids`. */
  async aggregateIds(requested: string[]): Promise<Map<string, number>> {
    const uuids = requested.filter(isStorable);
    if (uuids.length === 0) return new Map();
    const rows = await this.query(
      `SELECT uuid, id FROM placement_aggregates WHERE uuid IN (${placeholders(uuids.length)})`,
      uuids,
    );
    return new Map(rows.map((r) => [String(r['uuid']), num(r['id'])]));
  }

  /** Providers associated, for every group, with at least one of its aggregates. */
  async providerIdsInAggregateGroups(groups: number[][]): Promise<Set<number>> {
    const joins: string[] = [];
    const bindings: number[] = [];
    groups.forEach((ids, i) => {
      joins.push(
        `JOIN resource_provider_aggregates rpa${i} ON rp.id = rpa${i}.resource_provider_id AND rpa${i}.aggregate_id IN (${placeholders(ids.length)})`,
      );
      bindings.push(...ids);
    });
    const rows = await this.query(
      `SELECT rp.id FROM resource_providers rp ${joins.join(' ')}`,
      bindings,
    );
    return new Set(rows.map((r) => num(r['id'])));
  }

  /** Providers with capacity for `amount` of a class (research_context.get_providers_with_resource). */
  async providerIdsWithCapacity(rcId: number, amount: number): Promise<Set<number>> {
    const rows = await this.query(
      `SELECT rp.id FROM resource_providers rp
         JOIN inventories inv ON rp.id = inv.resource_provider_id AND inv.resource_class_id = ?
         LEFT JOIN (SELECT resource_provider_id, resource_class_id, SUM(used) AS used
                      FROM allocations WHERE resource_class_id IN (?)
                     GROUP BY resource_provider_id, resource_class_id) used_sum
           ON inv.resource_provider_id = used_sum.resource_provider_id
        WHERE COALESCE(used_sum.used, 0) + ? <= (inv.total - inv.reserved) * inv.allocation_ratio
          AND inv.min_unit <= ? AND inv.max_unit >= ? AND ? % inv.step_size = 0`,
      [rcId, rcId, amount, amount, amount, amount],
    );
    return new Set(rows.map((r) => num(r['id'])));
  }

  async resourceClasses(): Promise<NamedRow[]> {
    const rows = (
      await this.query('SELECT id, name, updated_at, created_at FROM resource_classes')
    ).map(namedRow);
    if (!this.options.standardClassesIfMissing) return rows;
    const ids = new Set(rows.map((r) => r.id));
    const names = new Set(rows.map((r) => r.name));
    standardResourceClasses().forEach((name, id) => {
      if (!ids.has(id) && !names.has(name)) {
        rows.push({ id, name, updated_at: null, created_at: null });
      }
    });
    return rows;
  }

  async traits(): Promise<NamedRow[]> {
    return (await this.query('SELECT id, name, updated_at, created_at FROM traits')).map(namedRow);
  }

  /** GET /traits with filters: SQL comparisons, so case rules are the engine's, as in placement. */
  async traitsFiltered(filter: {
    nameIn?: string[];
    prefix?: string;
    associated?: boolean;
  }): Promise<NamedRow[]> {
    const where: string[] = [];
    const bindings: unknown[] = [];
    let from = 'traits t';
    let distinct = '';
    if (filter.nameIn) {
      const names = filter.nameIn.filter(isStorable);
      if (names.length === 0) return [];
      where.push(`t.name IN (${placeholders(names.length)})`);
      bindings.push(...names);
    }
    if (filter.prefix !== undefined) {
      where.push('t.name LIKE ?');
      bindings.push(`${filter.prefix}%`);
    }
    if (filter.associated === true) {
      from += ' JOIN resource_provider_traits rpt ON t.id = rpt.trait_id';
      distinct = 'DISTINCT ';
    } else if (filter.associated === false) {
      from += ' LEFT JOIN resource_provider_traits rpt ON t.id = rpt.trait_id';
      where.push('rpt.trait_id IS NULL');
    }
    const rows = await this.query(
      `SELECT ${distinct}t.id, t.name, t.updated_at, t.created_at FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`,
      bindings,
    );
    return rows.map(namedRow);
  }

  async consumerTypes(): Promise<NamedRow[]> {
    if (!(await this.hasConsumerTypes())) return [];
    return (await this.query('SELECT id, name, updated_at, created_at FROM consumer_types')).map(
      namedRow,
    );
  }

  async inventories(providerId: number): Promise<InventoryRow[]> {
    const rows = await this.query(
      `SELECT resource_class_id, total, reserved, min_unit, max_unit, step_size, allocation_ratio,
              updated_at, created_at
         FROM inventories WHERE resource_provider_id = ?`,
      [providerId],
    );
    return rows.map((r) => ({
      resource_class_id: num(r['resource_class_id']),
      total: num(r['total']),
      reserved: num(r['reserved']),
      min_unit: num(r['min_unit']),
      max_unit: num(r['max_unit']),
      step_size: num(r['step_size']),
      allocation_ratio: num(r['allocation_ratio']),
      updated_at: r['updated_at'] as DbTime,
      created_at: r['created_at'] as DbTime,
    }));
  }

  /** Usage per class with inventory: allocations summed without joining consumers. */
  async providerUsages(uuid: string): Promise<UsageRow[]> {
    const rows = await this.query(
      `SELECT inv.resource_class_id, COALESCE(SUM(a.used), 0) AS used
         FROM inventories inv
         JOIN resource_providers rp ON inv.resource_provider_id = rp.id
         LEFT JOIN allocations a ON inv.resource_provider_id = a.resource_provider_id
                                AND inv.resource_class_id = a.resource_class_id
        WHERE rp.uuid = ?
        GROUP BY inv.resource_class_id`,
      [uuid],
    );
    return rows.map((r) => ({
      resource_class_id: num(r['resource_class_id']),
      used: num(r['used']),
    }));
  }

  async providerAllocations(providerId: number): Promise<ProviderAllocationRow[]> {
    const rows = await this.query(
      `SELECT a.resource_class_id, a.used, a.updated_at, a.created_at,
              c.generation AS consumer_generation, COALESCE(c.uuid, a.consumer_id) AS consumer_uuid
         FROM allocations a
         JOIN consumers c ON a.consumer_id = c.uuid
         JOIN projects p ON c.project_id = p.id
         JOIN users u ON c.user_id = u.id
        WHERE a.resource_provider_id = ?`,
      [providerId],
    );
    return rows.map((r) => ({
      resource_class_id: num(r['resource_class_id']),
      used: num(r['used']),
      consumer_uuid: String(r['consumer_uuid']),
      consumer_generation: numOrNull(r['consumer_generation']),
      updated_at: r['updated_at'] as DbTime,
      created_at: r['created_at'] as DbTime,
    }));
  }

  async consumerAllocations(consumerUuid: string): Promise<ConsumerAllocationRow[]> {
    const typeColumn = (await this.hasConsumerTypes())
      ? 'c.consumer_type_id'
      : 'NULL AS consumer_type_id';
    const rows = await this.query(
      `SELECT rp.uuid AS resource_provider_uuid, rp.generation AS resource_provider_generation,
              a.resource_class_id, a.used, a.updated_at, a.created_at,
              c.generation AS consumer_generation, ${typeColumn},
              p.external_id AS project_external_id, u.external_id AS user_external_id
         FROM allocations a
         JOIN resource_providers rp ON a.resource_provider_id = rp.id
         JOIN consumers c ON a.consumer_id = c.uuid
         JOIN projects p ON c.project_id = p.id
         JOIN users u ON c.user_id = u.id
        WHERE a.consumer_id = ?`,
      [consumerUuid],
    );
    return rows.map((r) => ({
      resource_provider_uuid: String(r['resource_provider_uuid']),
      resource_provider_generation: numOrNull(r['resource_provider_generation']),
      resource_class_id: num(r['resource_class_id']),
      used: num(r['used']),
      consumer_generation: numOrNull(r['consumer_generation']),
      consumer_type_id: numOrNull(r['consumer_type_id']),
      project_external_id: String(r['project_external_id']),
      user_external_id: String(r['user_external_id']),
      updated_at: r['updated_at'] as DbTime,
      created_at: r['created_at'] as DbTime,
    }));
  }

  async providerAggregates(providerId: number): Promise<string[]> {
    const rows = await this.query(
      `SELECT agg.uuid FROM placement_aggregates agg
         JOIN resource_provider_aggregates rpa
           ON agg.id = rpa.aggregate_id AND rpa.resource_provider_id = ?`,
      [providerId],
    );
    return rows.map((r) => r['uuid'] as string);
  }

  async providerTraitIds(providerId: number): Promise<number[]> {
    const rows = await this.query(
      'SELECT trait_id FROM resource_provider_traits WHERE resource_provider_id = ?',
      [providerId],
    );
    return rows.map((r) => num(r['trait_id']));
  }

  private usageJoins(userId: string | undefined): { from: string; where: string } {
    let from = `allocations a
      JOIN consumers c ON a.consumer_id = c.uuid
      JOIN projects p ON c.project_id = p.id`;
    let where = 'p.external_id = ?';
    if (userId) {
      from += ' JOIN users u ON c.user_id = u.id';
      where += ' AND u.external_id = ?';
    }
    return { from, where };
  }

  /**
   * Usages of a project (and user), per class (usage._get_all_by_project_user);
   * `onlyUntyped` keeps consumers without a type (consumer_type=unknown).
   */
  async totalUsages(
    projectId: string,
    userId: string | undefined,
    onlyUntyped = false,
  ): Promise<UsageRow[]> {
    const { from, where } = this.usageJoins(userId);
    const untyped =
      onlyUntyped && (await this.hasConsumerTypes()) ? ' AND c.consumer_type_id IS NULL' : '';
    const rows = await this.query(
      `SELECT a.resource_class_id, COALESCE(SUM(a.used), 0) AS used FROM ${from}
        WHERE ${where}${untyped} GROUP BY a.resource_class_id`,
      userId ? [projectId, userId] : [projectId],
    );
    return rows.map((r) => ({
      resource_class_id: num(r['resource_class_id']),
      used: num(r['used']),
    }));
  }

  /** Distinct consumers behind totalUsages. */
  async totalConsumerCount(
    projectId: string,
    userId: string | undefined,
    onlyUntyped = false,
  ): Promise<number> {
    const { from, where } = this.usageJoins(userId);
    const untyped =
      onlyUntyped && (await this.hasConsumerTypes()) ? ' AND c.consumer_type_id IS NULL' : '';
    const rows = await this.query(
      `SELECT COUNT(DISTINCT a.consumer_id) AS n FROM ${from} WHERE ${where}${untyped}`,
      userId ? [projectId, userId] : [projectId],
    );
    return num(rows[0]?.['n'] ?? 0);
  }

  /**
   * Usages per consumer type and class, plus distinct consumers per type
   * (usage._get_by_consumer_type). A null type name is "unknown".
   */
  async usagesByConsumerType(
    projectId: string,
    userId: string | undefined,
    consumerType: string | undefined,
  ): Promise<{ rows: TypedUsageRow[]; counts: Map<string | null, number> }> {
    const typed = await this.hasConsumerTypes();
    let { from, where } = this.usageJoins(userId);
    const bindings: string[] = userId ? [projectId, userId] : [projectId];
    const typeName = typed ? 'ct.name' : 'NULL';
    if (typed) from += ' LEFT JOIN consumer_types ct ON c.consumer_type_id = ct.id';
    if (consumerType) {
      if (!typed) return { rows: [], counts: new Map() };
      where += ' AND ct.name = ?';
      bindings.push(consumerType);
    }
    const countRows = await this.query(
      `SELECT ${typeName} AS consumer_type, COUNT(DISTINCT a.consumer_id) AS n FROM ${from}
        WHERE ${where} GROUP BY ${typeName}`,
      bindings,
    );
    const typeGroup = typed ? ', c.consumer_type_id, ct.name' : '';
    const rows = await this.query(
      `SELECT a.resource_class_id, COALESCE(SUM(a.used), 0) AS used, ${typeName} AS consumer_type
         FROM ${from} WHERE ${where} GROUP BY a.resource_class_id${typeGroup}`,
      bindings,
    );
    return {
      rows: rows.map((r) => ({
        resource_class_id: num(r['resource_class_id']),
        used: num(r['used']),
        consumer_type: (r['consumer_type'] as string | null) ?? null,
      })),
      counts: new Map(
        countRows.map((r) => [(r['consumer_type'] as string | null) ?? null, num(r['n'])]),
      ),
    };
  }
}
