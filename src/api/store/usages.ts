/** Usage sums: of a provider, and of a project (and user), optionally by consumer type. */
import { type Access, num } from './base.js';

export interface UsageRow {
  resource_class_id: number;
  used: number;
}

export interface TypedUsageRow extends UsageRow {
  consumer_type: string | null;
}

export class UsageStore {
  constructor(private readonly access: Access) {}

  /** Usage per class with inventory: allocations summed without joining consumers. */
  async ofProvider(uuid: string): Promise<UsageRow[]> {
    const rows = await this.access.rows(
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

  private joins(userId: string | undefined): { from: string; where: string } {
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
  async total(
    projectId: string,
    userId: string | undefined,
    onlyUntyped = false,
  ): Promise<UsageRow[]> {
    const { from, where } = this.joins(userId);
    const untyped =
      onlyUntyped && (await this.access.schema.hasConsumerTypes())
        ? ' AND c.consumer_type_id IS NULL'
        : '';
    const rows = await this.access.rows(
      `SELECT a.resource_class_id, COALESCE(SUM(a.used), 0) AS used FROM ${from}
        WHERE ${where}${untyped} GROUP BY a.resource_class_id`,
      userId ? [projectId, userId] : [projectId],
    );
    return rows.map((r) => ({
      resource_class_id: num(r['resource_class_id']),
      used: num(r['used']),
    }));
  }

  /** Distinct consumers behind total(). */
  async consumerCount(
    projectId: string,
    userId: string | undefined,
    onlyUntyped = false,
  ): Promise<number> {
    const { from, where } = this.joins(userId);
    const untyped =
      onlyUntyped && (await this.access.schema.hasConsumerTypes())
        ? ' AND c.consumer_type_id IS NULL'
        : '';
    const rows = await this.access.rows(
      `SELECT COUNT(DISTINCT a.consumer_id) AS n FROM ${from} WHERE ${where}${untyped}`,
      userId ? [projectId, userId] : [projectId],
    );
    return num(rows[0]?.['n'] ?? 0);
  }

  /**
   * Usages per consumer type and class, plus distinct consumers per type
   * (usage._get_by_consumer_type). A null type name is "unknown".
   */
  async byConsumerType(
    projectId: string,
    userId: string | undefined,
    consumerType: string | undefined,
  ): Promise<{ rows: TypedUsageRow[]; counts: Map<string | null, number> }> {
    const typed = await this.access.schema.hasConsumerTypes();
    let { from, where } = this.joins(userId);
    const bindings: string[] = userId ? [projectId, userId] : [projectId];
    const typeName = typed ? 'ct.name' : 'NULL';
    if (typed) from += ' LEFT JOIN consumer_types ct ON c.consumer_type_id = ct.id';
    if (consumerType) {
      if (!typed) return { rows: [], counts: new Map() };
      where += ' AND ct.name = ?';
      bindings.push(consumerType);
    }
    const countRows = await this.access.rows(
      `SELECT ${typeName} AS consumer_type, COUNT(DISTINCT a.consumer_id) AS n FROM ${from}
        WHERE ${where} GROUP BY ${typeName}`,
      bindings,
    );
    const typeGroup = typed ? ', c.consumer_type_id, ct.name' : '';
    const rows = await this.access.rows(
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
