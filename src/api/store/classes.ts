/** resource_classes and consumer_types: the named rows that inventories, allocations and consumers point at. */
import { standardResourceClasses } from '../../standard/standard-names.js';
import { type Access, type NamedRow, namedRow, num } from './base.js';

export interface ClassStoreOptions {
  /**
   * Show the standard resource classes even where their rows are missing.
   * placement inserts them when it starts, so it never serves a database
   * without them; a read-only server, which must not insert them, shows
   * them as placement would after its start (right after a migration, say).
   */
  standardClassesIfMissing?: boolean;
}

export class ClassStore {
  constructor(
    private readonly access: Access,
    private readonly options: ClassStoreOptions,
  ) {}

  async resourceClasses(): Promise<NamedRow[]> {
    const rows = (
      await this.access.rows('SELECT id, name, updated_at, created_at FROM resource_classes')
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

  async consumerTypes(): Promise<NamedRow[]> {
    if (!(await this.access.schema.hasConsumerTypes())) return [];
    return (
      await this.access.rows('SELECT id, name, updated_at, created_at FROM consumer_types')
    ).map(namedRow);
  }

  /** One resource class by its exact name, read now. */
  async byName(name: string): Promise<NamedRow | null> {
    const rows = await this.access.rows(
      'SELECT id, name, updated_at, created_at FROM resource_classes WHERE name = ?',
      [name],
    );
    return rows[0] ? namedRow(rows[0]) : null;
  }

  /** The largest id in use (custom classes are numbered from it). */
  async maxId(): Promise<number | null> {
    const rows = await this.access.rows('SELECT MAX(id) AS max_id FROM resource_classes');
    const v = rows[0]?.['max_id'];
    return v === null || v === undefined ? null : num(v);
  }

  /** Inserts a class with an explicit id; a unique violation is either the id or the name taken. */
  async create(id: number, name: string): Promise<NamedRow> {
    const created = this.access.now();
    await this.access.run('INSERT INTO resource_classes (id, name, created_at) VALUES (?, ?, ?)', [
      id,
      name,
      created,
    ]);
    return { id, name, updated_at: null, created_at: created };
  }

  async rename(id: number, name: string): Promise<number> {
    return this.access.run('UPDATE resource_classes SET name = ?, updated_at = ? WHERE id = ?', [
      name,
      this.access.now(),
      id,
    ]);
  }

  /** Whether any inventory is of this class. */
  async inUse(id: number): Promise<boolean> {
    const rows = await this.access.rows(
      'SELECT id FROM inventories WHERE resource_class_id = ? LIMIT 1',
      [id],
    );
    return rows.length > 0;
  }

  async delete(id: number): Promise<number> {
    return this.access.run('DELETE FROM resource_classes WHERE id = ?', [id]);
  }
}
