/**
 * Access.integers: integer columns read as one value the server packs,
 * on every engine, equal to the rows read one by one; and when MySQL cuts
 * the packed value short (group_concat_max_len), the rows are read instead.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Access, parseIntegers, SchemaFacts } from '../../src/api/store/base.js';
import { describeEach } from '../helpers/each.js';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/databases.js';

const created: TestDatabase[] = [];
afterAll(async () => {
  for (const d of created) await d.drop();
});

describe('parseIntegers', () => {
  it('reads rows and values, negative ones too, and refuses text cut short or foreign', () => {
    expect(parseIntegers('1,2;30,-4', 4)).toEqual([1, 2, 30, -4]);
    expect(parseIntegers('7', 1)).toEqual([7]);
    expect(parseIntegers('1,2;3', 4)).toBeNull(); // cut in the middle of a row
    expect(parseIntegers('1,2;3,4', 3)).toBeNull(); // more than the count
    expect(parseIntegers('1,2;3,', 4)).toBeNull(); // cut after a separator
    expect(parseIntegers('1,x', 2)).toBeNull();
  });
});

describeEach(testEngines())('packed integers on %s', (engine) => {
  it('equal the rows, in thousands, with an id list of any length', async () => {
    const d = await createTestDatabase(engine, 'packed');
    created.push(d);
    const db = await d.open();
    try {
      await db.knex.schema.createTable('pairs', (t) => {
        t.integer('a').notNullable();
        t.integer('b').notNullable();
      });
      const rows = Array.from({ length: 5000 }, (_, i) => ({ a: i + 1, b: (i * 7919) % 10007 }));
      for (let i = 0; i < rows.length; i += 500)
        await db.knex('pairs').insert(rows.slice(i, i + 500));
      const access = new Access(db, db.knex, new SchemaFacts(db));
      const packed = await access.integers('SELECT a, b FROM pairs WHERE b > ?', ['a', 'b'], [10]);
      const expected = rows.filter((r) => r.b > 10).flatMap((r) => [r.a, r.b]);
      const pairsOf = (flat: number[]) =>
        Array.from(
          { length: flat.length / 2 },
          (_, i) => `${flat[2 * i]},${flat[2 * i + 1]}`,
        ).sort();
      expect(pairsOf(packed)).toEqual(pairsOf(expected));
      expect(await access.integers('SELECT a FROM pairs WHERE a < 0', ['a'])).toEqual([]);
      // An id list of 4,500: one array parameter on PostgreSQL, slices of 2,000 elsewhere.
      const ids = rows.slice(0, 4500).map((r) => r.a);
      const lists = access.idList('a', ids);
      expect(lists.length).toBe(engine === 'postgresql' ? 1 : 3);
      const found: number[] = [];
      for (const l of lists) {
        found.push(
          ...(await access.integers(`SELECT a FROM pairs WHERE ${l.sql}`, ['a'], l.bindings)),
        );
      }
      expect(found.sort((x, y) => x - y)).toEqual(ids);
      if (engine === 'mysql') {
        // A packed value cut at 64 bytes: the count tells, the rows are read instead.
        await db.knex.raw('SET SESSION group_concat_max_len = 64');
        const cut = await access.integers('SELECT a, b FROM pairs WHERE b > ?', ['a', 'b'], [10]);
        expect(pairsOf(cut)).toEqual(pairsOf(expected));
      }
    } finally {
      await db.close();
    }
  });
});
