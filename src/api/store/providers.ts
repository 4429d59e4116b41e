/**
 * resource_providers: lookups as placement's ResourceProvider objects make
 * them (providers without a root row are invisible), and the writes that
 * create, change and remove providers.
 */
import { type Access, type DbTime, num, numOrNull, placeholders } from './base.js';

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

/** Where a provider sits: its own, its parent's and its root's internal ids. */
export interface ProviderIds {
  id: number;
  uuid: string;
  name: string | null;
  parentId: number | null;
  rootId: number;
  rootUuid: string;
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

  /** A provider's internal ids, its parent's and its root's (research_context.provider_ids_from_uuid). */
  async idsOf(uuid: string): Promise<ProviderIds | null> {
    const rows = await this.access.rows(
      `SELECT me.id, me.uuid, me.name, me.parent_provider_id AS parent_id, root.id AS root_id, root.uuid AS root_uuid
         FROM resource_providers me
         JOIN resource_providers root ON me.root_provider_id = root.id
        WHERE me.uuid = ?`,
      [uuid],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      id: num(r['id']),
      uuid: String(r['uuid']),
      name: (r['name'] as string | null) ?? null,
      parentId: numOrNull(r['parent_id']),
      rootId: num(r['root_id']),
      rootUuid: String(r['root_uuid']),
    };
  }

  /**
   * Inserts a provider at generation 0. A provider without a parent is its
   * own root, which placement writes in a second statement (so that row
   * also gets an updated_at, as placement's does).
   */
  async create(row: {
    uuid: string;
    name: string;
    parentId: number | null;
    rootId: number | null;
  }): Promise<number> {
    const id = await this.access.insert('resource_providers', {
      uuid: row.uuid,
      name: row.name,
      generation: 0,
      parent_provider_id: row.parentId,
      root_provider_id: row.rootId,
      created_at: this.access.now(),
    });
    if (row.rootId === null) {
      await this.access.run(
        'UPDATE resource_providers SET root_provider_id = ?, updated_at = ? WHERE id = ?',
        [id, this.access.now(), id],
      );
    }
    return id;
  }

  /** Changes a provider's name and place in a tree; only the columns given. */
  async update(
    id: number,
    changes: { name?: string; parentId?: number | null; rootId?: number },
  ): Promise<void> {
    const sets: string[] = [];
    const bindings: unknown[] = [];
    if (changes.name !== undefined) {
      sets.push('name = ?');
      bindings.push(changes.name);
    }
    if (changes.parentId !== undefined) {
      sets.push('parent_provider_id = ?');
      bindings.push(changes.parentId);
    }
    if (changes.rootId !== undefined) {
      sets.push('root_provider_id = ?');
      bindings.push(changes.rootId);
    }
    if (sets.length === 0) return;
    await this.access.run(
      `UPDATE resource_providers SET ${sets.join(', ')}, updated_at = ? WHERE id = ?`,
      [...bindings, this.access.now(), id],
    );
  }

  /** Moves providers (a re-parented subtree) to another root. */
  async setRoot(ids: number[], rootId: number): Promise<void> {
    if (ids.length === 0) return;
    await this.access.run(
      `UPDATE resource_providers SET root_provider_id = ?, updated_at = ? WHERE id IN (${placeholders(ids.length)})`,
      [rootId, this.access.now(), ...ids],
    );
  }

  async hasChildren(id: number): Promise<boolean> {
    const rows = await this.access.rows(
      'SELECT id FROM resource_providers WHERE parent_provider_id = ? LIMIT 1',
      [id],
    );
    return rows.length > 0;
  }

  async hasAllocations(id: number): Promise<boolean> {
    const rows = await this.access.rows(
      'SELECT id FROM allocations WHERE resource_provider_id = ? LIMIT 1',
      [id],
    );
    return rows.length > 0;
  }

  /**
   * Removes a provider with its inventories, aggregate and trait
   * associations, as ResourceProvider._delete does; returns how many
   * provider rows went (0 when someone else removed it first).
   */
  async destroy(id: number): Promise<number> {
    await this.access.run('DELETE FROM inventories WHERE resource_provider_id = ?', [id]);
    await this.access.run(
      'DELETE FROM resource_provider_aggregates WHERE resource_provider_id = ?',
      [id],
    );
    await this.access.run('DELETE FROM resource_provider_traits WHERE resource_provider_id = ?', [
      id,
    ]);
    // A root points at itself: clear that so the row can go.
    await this.access.run(
      'UPDATE resource_providers SET root_provider_id = NULL WHERE id = ? AND root_provider_id = ?',
      [id, id],
    );
    return this.access.run('DELETE FROM resource_providers WHERE id = ?', [id]);
  }

  /**
   * Holds the provider's row for the rest of the transaction if its
   * generation is still `expected`, changing nothing: the generation is
   * moved on and back, so every engine counts the row as changed and locks
   * it (MySQL counts only rows whose values change). A writer that bumps
   * the generation after this waits for it; false means one already did.
   */
  async lockAtGeneration(id: number, expected: number): Promise<boolean> {
    const held = await this.access.run(
      'UPDATE resource_providers SET generation = generation + 1 WHERE id = ? AND generation = ?',
      [id, expected],
    );
    if (held !== 1) return false;
    await this.access.run('UPDATE resource_providers SET generation = ? WHERE id = ?', [
      expected,
      id,
    ]);
    return true;
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
