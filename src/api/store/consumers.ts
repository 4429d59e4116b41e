/**
 * consumers, projects, users and consumer_types: the rows an allocation
 * write finds or creates for its consumer, as placement's Consumer,
 * Project, User and ConsumerType objects read and write them. The inserts
 * answer null where the row exists already (a racing request created it),
 * as placement's *Exists exceptions do; run them outside a transaction, as
 * placement does, since PostgreSQL ends a transaction on the violation.
 */
import { type Access, num, numOrNull } from './base.js';

/** A consumer with its project and user (placement's _get_consumer_by_uuid). */
export interface ConsumerRow {
  id: number;
  uuid: string;
  generation: number;
  consumer_type_id: number | null;
  project_id: number;
  project_external_id: string;
  user_id: number;
  user_external_id: string;
}

/** What a consumer row points at. */
export interface ConsumerLinks {
  projectId: number;
  userId: number;
  typeId: number | null;
}

export class ConsumerStore {
  constructor(private readonly access: Access) {}

  /** A consumer, invisible (as in placement) when its project or user row is missing. */
  async byUuid(uuid: string): Promise<ConsumerRow | null> {
    const typeColumn = (await this.access.schema.hasConsumerTypes())
      ? 'c.consumer_type_id'
      : 'NULL AS consumer_type_id';
    const rows = await this.access.rows(
      `SELECT c.id, c.uuid, c.generation, ${typeColumn},
              p.id AS project_id, p.external_id AS project_external_id,
              u.id AS user_id, u.external_id AS user_external_id
         FROM consumers c
         JOIN projects p ON c.project_id = p.id
         JOIN users u ON c.user_id = u.id
        WHERE c.uuid = ?`,
      [uuid],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      id: num(r['id']),
      uuid: String(r['uuid']),
      generation: num(r['generation']),
      consumer_type_id: numOrNull(r['consumer_type_id']),
      project_id: num(r['project_id']),
      project_external_id: String(r['project_external_id']),
      user_id: num(r['user_id']),
      user_external_id: String(r['user_external_id']),
    };
  }

  /** Creates a consumer at generation 0; null when one with this UUID exists. */
  async insert(uuid: string, links: ConsumerLinks): Promise<number | null> {
    const row: Record<string, unknown> = {
      uuid,
      project_id: links.projectId,
      user_id: links.userId,
      generation: 0,
      created_at: this.access.now(),
    };
    if (await this.access.schema.hasConsumerTypes()) row['consumer_type_id'] = links.typeId;
    return this.insertUnlessExists('consumers', row);
  }

  /**
   * Points a consumer at another project, user or type without changing its
   * generation, only while the generation is still `generation`: placement's
   * Consumer.update(). A consumer changed meanwhile is left alone, and the
   * generation bump that follows fails instead.
   */
  async update(id: number, generation: number, links: ConsumerLinks): Promise<void> {
    const types = await this.access.schema.hasConsumerTypes();
    await this.access.run(
      `UPDATE consumers SET project_id = ?, user_id = ?,${types ? ' consumer_type_id = ?,' : ''} updated_at = ?
        WHERE id = ? AND generation = ?`,
      [
        links.projectId,
        links.userId,
        ...(types ? [links.typeId] : []),
        this.access.now(),
        id,
        generation,
      ],
    );
  }

  /** Compare-and-swap of a consumer's generation; false when another writer changed it. */
  async bumpGeneration(id: number, expected: number): Promise<boolean> {
    const changed = await this.access.run(
      'UPDATE consumers SET generation = ?, updated_at = ? WHERE id = ? AND generation = ?',
      [expected + 1, this.access.now(), id, expected],
    );
    return changed === 1;
  }

  /**
   * Deletes a consumer this request created, unless it has been written to
   * since (a newer generation, or allocations): a racing request may have
   * found it and claimed with it.
   */
  async deleteUnused(id: number): Promise<void> {
    await this.access.run(
      `DELETE FROM consumers
        WHERE id = ? AND generation = 0
          AND NOT EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_id = consumers.uuid)`,
      [id],
    );
  }

  /** Deletes those of the consumers that have no allocations left (placement's delete_consumers_if_no_allocations). */
  async deleteIfNoAllocations(uuids: readonly string[]): Promise<void> {
    if (uuids.length === 0) return;
    const list = uuids.map(() => '?').join(', ');
    const rows = await this.access.rows(
      `SELECT c.uuid FROM consumers c
         LEFT JOIN allocations a ON c.uuid = a.consumer_id
        WHERE a.consumer_id IS NULL AND c.uuid IN (${list})`,
      uuids,
    );
    const empty = rows.map((r) => String(r['uuid']));
    if (empty.length === 0) return;
    await this.access.run(
      `DELETE FROM consumers WHERE uuid IN (${empty.map(() => '?').join(', ')})`,
      empty,
    );
  }

  /** A project (or, `table` 'users', a user) by its Keystone id, as stored. */
  async externalRow(
    table: 'projects' | 'users',
    externalId: string,
  ): Promise<{ id: number; externalId: string } | null> {
    const rows = await this.access.rows(
      `SELECT id, external_id FROM ${table} WHERE external_id = ?`,
      [externalId],
    );
    const r = rows[0];
    return r ? { id: num(r['id']), externalId: String(r['external_id']) } : null;
  }

  /** Creates a project or user row; null when it exists already. */
  insertExternal(table: 'projects' | 'users', externalId: string): Promise<number | null> {
    return this.insertUnlessExists(table, {
      external_id: externalId,
      created_at: this.access.now(),
    });
  }

  /** A consumer type's id by name, read now (not from a request's cache). */
  async consumerTypeId(name: string): Promise<number | null> {
    const rows = await this.access.rows('SELECT id FROM consumer_types WHERE name = ?', [name]);
    return rows[0] ? num(rows[0]['id']) : null;
  }

  /** Creates a consumer type; null when one of this name exists already. */
  insertConsumerType(name: string): Promise<number | null> {
    return this.insertUnlessExists('consumer_types', { name, created_at: this.access.now() });
  }

  private async insertUnlessExists(
    table: string,
    row: Record<string, unknown>,
  ): Promise<number | null> {
    try {
      return await this.access.insert(table, row);
    } catch (err) {
      if (this.access.db.dialect.isUniqueViolation(err)) return null;
      throw err;
    }
  }
}
