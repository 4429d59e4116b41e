/**
 * A batch written again after an error that says "try again". On Galera a
 * COMMIT can fail although the cluster applied it (the node left the Primary
 * Component while the write set was being ordered), so the retry must not
 * write the batch twice, nor hide rows someone else wrote. The fault is
 * injected in the dialect's insert on real databases: the batch really
 * commits (or really does not) before the injected error is thrown.
 */
import { afterAll, expect, it } from 'vitest';
import type { Dialect } from '../../src/db/dialect/dialect.js';
import type { Database } from '../../src/db/connect.js';
import { copyUnit } from '../../src/copy/copy.js';
import { copyTable } from '../../src/copy/tables.js';
import { INITIAL_REVISION } from '../../src/migrations/index.js';
import { syncSchema } from '../../src/schema/migrator.js';
import { describeEach } from '../helpers/each.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';

const created: TestDatabase[] = [];
afterAll(async () => {
  for (const d of created) await d.drop();
});

const NOT_PRIMARY = new Error('WSREP has not yet prepared node for application use (injected)');

/** The target's dialect, with an insert that fails (after committing, or before) on chosen calls. */
function faulty(
  dialect: Dialect,
  plan: Map<number, 'after-commit' | 'before-commit' | (() => Promise<void>)>,
) {
  let calls = 0;
  const wrapped: Dialect = {
    ...dialect,
    clusterFault: (err) =>
      err === NOT_PRIMARY ? { kind: 'not_primary', detail: 'injected' } : dialect.clusterFault(err),
    async insertRows(db, table, columns, rows) {
      calls++;
      const fault = plan.get(calls);
      if (typeof fault === 'function') {
        await fault();
        throw NOT_PRIMARY;
      }
      if (fault === 'before-commit') throw NOT_PRIMARY;
      await dialect.insertRows(db, table, columns, rows);
      if (fault === 'after-commit') throw NOT_PRIMARY;
    },
  };
  return { dialect: wrapped, calls: () => calls };
}

async function placementDatabase(engine: TestDatabase['engine'], prefix: string) {
  const d = await createTestDatabase(engine, prefix);
  created.push(d);
  const db = await d.open();
  await syncSchema(db, { target: INITIAL_REVISION });
  return db;
}

async function traitIds(db: Database): Promise<number[]> {
  const rows = db.dialect.rows<{ id: number | string }>(
    await db.knex.raw('SELECT id FROM traits ORDER BY id'),
  );
  return rows.map((r) => Number(r.id));
}

describeEach(testEngines())('copy retries on %s', (engine) => {
  const traits = copyTable('traits');

  async function pair() {
    const source = await placementDatabase(engine, 'retry_src');
    const target = await placementDatabase(engine, 'retry_dst');
    const rows = Array.from({ length: 95 }, (_, i) => ({
      id: i + 1,
      name: `CUSTOM_T${i + 1}`,
      created_at: '2019-01-02 03:04:05',
      updated_at: null,
    }));
    await source.knex('traits').insert(rows);
    return { source, target };
  }

  async function copy(source: Database, target: Database, dialect: Dialect) {
    const retries: string[] = [];
    await copyUnit(
      {
        conn: source.knex,
        dialect: source.dialect,
        layout: { table: traits, present: true, columns: [...traits.columns] },
      },
      { conn: target.knex, dialect },
      null,
      { batchSize: 10, onRetry: (m) => retries.push(m) },
    );
    return retries;
  }

  it('a batch whose failed COMMIT had landed is not written again', async () => {
    const { source, target } = await pair();
    try {
      const f = faulty(target.dialect, new Map([[3, 'after-commit']]));
      const retries = await copy(source, target, f.dialect);
      expect(await traitIds(target)).toEqual(Array.from({ length: 95 }, (_, i) => i + 1));
      expect(retries).toHaveLength(2);
      expect(retries[0]).toMatch(
        /outside the Primary Component; writing the batch of 10 rows again/,
      );
      expect(retries[1]).toMatch(/earlier attempt at the batch of 10 rows had committed after all/);
      // Ten batches, none written twice.
      expect(f.calls()).toBe(10);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('a batch that failed before committing is written again', async () => {
    const { source, target } = await pair();
    try {
      const f = faulty(
        target.dialect,
        new Map([
          [5, 'before-commit'],
          [6, 'before-commit'],
        ]),
      );
      const retries = await copy(source, target, f.dialect);
      expect(await traitIds(target)).toEqual(Array.from({ length: 95 }, (_, i) => i + 1));
      expect(retries).toHaveLength(2);
      expect(retries.every((m) => /writing the batch of 10 rows again/.test(m))).toBe(true);
      expect(f.calls()).toBe(12);
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('a row someone else wrote in a retried batch still ends the copy', async () => {
    const { source, target } = await pair();
    try {
      // While the third batch fails, another writer puts in a row with the
      // key of that batch's second row (not its first).
      const intrude = async () => {
        await target.knex('traits').insert({ id: 22, name: 'CUSTOM_INTRUDER' });
      };
      const f = faulty(target.dialect, new Map([[3, intrude]]));
      await expect(copy(source, target, f.dialect)).rejects.toThrow(/duplicate|unique/i);
      expect((await traitIds(target)).filter((id) => id > 20)).toEqual([22]);
    } finally {
      await source.close();
      await target.close();
    }
  });
});
