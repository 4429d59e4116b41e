/**
 * resource_providers: lookups as placement's ResourceProvider objects make
 * them (providers without a root row are invisible), and the writes that
 * create, change and remove providers.
 */
import { type Access, type DbTime, num, numOrNull } from './base.js';

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

export interface ProviderFilter {
  name?: string;
  uuid?: string;
  rootId?: number;
}

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

export class ProviderStore {
  constructor(private readonly access: Access) {}

  /** One provider by UUID. */
  async byUuid(uuid: string): Promise<ProviderRow | null> {
    const rows = await this.access.rows(
      `SELECT ${PROVIDER_COLUMNS} FROM ${PROVIDER_FROM} WHERE rp.uuid = ?`,
      [uuid],
    );
    return rows[0] ? providerRow(rows[0]) : null;
  }

  /** Providers matching the plain column filters; the set filters are applied by the caller. */
  async list(filter: ProviderFilter): Promise<ProviderRow[]> {
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
    const rows = await this.access.rows(
      `SELECT ${PROVIDER_COLUMNS} FROM ${PROVIDER_FROM}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`,
      bindings,
    );
    return rows.map(providerRow);
  }

  /** The internal id and root id of a provider (research_context.provider_ids_from_uuid). */
  async treeIds(uuid: string): Promise<{ id: number; rootId: number } | null> {
    const rows = await this.access.rows(
      `SELECT me.id, root.id AS root_id FROM resource_providers me
         JOIN resource_providers root ON me.root_provider_id = root.id
        WHERE me.uuid = ?`,
      [uuid],
    );
    return rows[0] ? { id: num(rows[0]['id']), rootId: num(rows[0]['root_id']) } : null;
  }

  /**
   * Compare-and-swap of a provider's generation: bumps it only if it is
   * still `expected`. False means another writer got there first, which
   * placement answers with 409 placement.concurrent_update.
   */
  async bumpGeneration(id: number, expected: number | null): Promise<boolean> {
    const changed = await this.access.run(
      `UPDATE resource_providers SET generation = ?, updated_at = ?
        WHERE id = ? AND ${expected === null ? 'generation IS NULL' : 'generation = ?'}`,
      expected === null
        ? [1, this.access.now(), id]
        : [expected + 1, this.access.now(), id, expected],
    );
    return changed === 1;
  }
}
