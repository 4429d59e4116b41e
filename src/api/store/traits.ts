/** traits and resource_provider_traits. */
import { type Access, isStorable, type NamedRow, namedRow, num, placeholders } from './base.js';

export interface TraitFilter {
  nameIn?: string[];
  prefix?: string;
  associated?: boolean;
}

export class TraitStore {
  constructor(private readonly access: Access) {}

  async all(): Promise<NamedRow[]> {
    return (await this.access.rows('SELECT id, name, updated_at, created_at FROM traits')).map(
      namedRow,
    );
  }

  /** Every trait's id and name (no timestamps: cheaper to read, for name lookups). */
  async names(): Promise<{ id: number; name: string }[]> {
    return (await this.access.rows('SELECT id, name FROM traits')).map((r) => ({
      id: num(r['id']),
      name: String(r['name']),
    }));
  }

  /** GET /traits with filters: SQL comparisons, so case rules are the engine's, as in placement. */
  async filtered(filter: TraitFilter): Promise<NamedRow[]> {
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
    const rows = await this.access.rows(
      `SELECT ${distinct}t.id, t.name, t.updated_at, t.created_at FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`,
      bindings,
    );
    return rows.map(namedRow);
  }

  async idsOfProvider(providerId: number): Promise<number[]> {
    const rows = await this.access.rows(
      'SELECT trait_id FROM resource_provider_traits WHERE resource_provider_id = ?',
      [providerId],
    );
    return rows.map((r) => num(r['trait_id']));
  }

  /** One trait by its exact name, read now (not from a request's cache). */
  async byName(name: string): Promise<NamedRow | null> {
    const rows = await this.access.rows(
      'SELECT id, name, updated_at, created_at FROM traits WHERE name = ?',
      [name],
    );
    return rows[0] ? namedRow(rows[0]) : null;
  }

  /** Inserts a trait; a unique violation means another writer created it first. */
  async create(name: string): Promise<NamedRow> {
    const created = this.access.now();
    const id = await this.access.insert('traits', { name, created_at: created });
    return { id, name, updated_at: null, created_at: created };
  }

  /** Whether any provider has the trait. */
  async inUse(id: number): Promise<boolean> {
    const rows = await this.access.rows(
      'SELECT trait_id FROM resource_provider_traits WHERE trait_id = ? LIMIT 1',
      [id],
    );
    return rows.length > 0;
  }

  /** Deletes a trait by name; returns how many rows went. */
  async deleteByName(name: string): Promise<number> {
    return this.access.run('DELETE FROM traits WHERE name = ?', [name]);
  }

  async addToProvider(providerId: number, traitIds: number[]): Promise<void> {
    const now = this.access.now();
    for (const traitId of traitIds) {
      await this.access.run(
        'INSERT INTO resource_provider_traits (resource_provider_id, trait_id, created_at) VALUES (?, ?, ?)',
        [providerId, traitId, now],
      );
    }
  }

  async removeFromProvider(providerId: number, traitIds: number[]): Promise<void> {
    if (traitIds.length === 0) return;
    await this.access.run(
      `DELETE FROM resource_provider_traits WHERE resource_provider_id = ? AND trait_id IN (${placeholders(traitIds.length)})`,
      [providerId, ...traitIds],
    );
  }
}
