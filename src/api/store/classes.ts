/** resource_classes and consumer_types: the named rows that inventories, allocations and consumers point at. */
import { standardResourceClasses } from '../../standard/standard-names.js';
import { type Access, type NamedRow, namedRow } from './base.js';

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
}
