/**
 * The copy's MySQL INSERTs are written with their values as literals. They
 * must be the very text the driver made from placeholders before (mysql2's
 * own format), for every kind of value a source row holds: checked over
 * seeded random rows full of the characters that need escaping.
 */
import { format } from 'mysql2';
import { describe, expect, it } from 'vitest';
import {
  mysqlInsertStatements,
  mysqlLiteral,
  mysqlString,
} from '../../src/db/dialect/mysql-literal.js';
import { seededRandom } from '../../src/util/seeded-random.js';

const quote = (s: string) => `\`${s.replace(/`/g, '``')}\``;

const AWKWARD = [
  '\0',
  '\b',
  '\t',
  '\n',
  '\r',
  '\x1a',
  '"',
  "'",
  '\\',
  '?',
  '??',
  '`',
  '%',
  'é',
  '€',
  '😀',
  'a',
  ' ',
  ';',
  '--',
  '/*',
];

function value(next: () => number): unknown {
  const pick = Math.floor(next() * 9);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return Math.floor(next() * 2 ** 31) * (next() < 0.2 ? -1 : 1);
    case 2:
      return [0.5, 1, 1.5, 16, 0.1, 3.0000001, 1e-7, 123456.75][Math.floor(next() * 8)];
    case 3:
      return next() < 0.5;
    case 4:
      return Buffer.from([0, 39, 92, 255].slice(0, 1 + Math.floor(next() * 4)));
    case 5:
      return '';
    case 6:
      return '2019-03-01 12:34:56.123456';
    default: {
      let s = '';
      const n = Math.floor(next() * 12);
      for (let i = 0; i < n; i++) s += AWKWARD[Math.floor(next() * AWKWARD.length)];
      return s;
    }
  }
}

describe('mysqlInsertStatements', () => {
  it('writes what the driver wrote from placeholders, for every kind of value', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = seededRandom(seed);
      const columns = Array.from({ length: 1 + Math.floor(next() * 6) }, (_, i) => `c${i}`);
      const rows = Array.from({ length: 1 + Math.floor(next() * 20) }, () =>
        columns.map(() => value(next)),
      );
      const perStatement = 1 + Math.floor(next() * 8);
      const ours = mysqlInsertStatements('t`x', columns, rows, quote, perStatement);
      const theirs: string[] = [];
      const head = `INSERT INTO ${quote('t`x')} (${columns.map(quote).join(', ')}) VALUES `;
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      for (let i = 0; i < rows.length; i += perStatement) {
        const chunk = rows.slice(i, i + perStatement);
        theirs.push(
          format(
            head + Array<string>(chunk.length).fill(tuple).join(', '),
            chunk.flat() as Parameters<typeof format>[1],
          ),
        );
      }
      expect(ours, `seed ${seed}`).toEqual(theirs);
    }
  });

  it('cuts the rows into statements of at most the given number', () => {
    const rows = Array.from({ length: 5 }, (_, i) => [i]);
    const statements = mysqlInsertStatements('t', ['id'], rows, quote, 2);
    expect(statements).toEqual([
      'INSERT INTO `t` (`id`) VALUES (0), (1)',
      'INSERT INTO `t` (`id`) VALUES (2), (3)',
      'INSERT INTO `t` (`id`) VALUES (4)',
    ]);
  });

  it('escapes each character a quoted literal must', () => {
    expect(mysqlString(`a'b"c\\d\0e\nf\rg\th\bi\x1aj`)).toBe(
      `'a\\'b\\"c\\\\d\\0e\\nf\\rg\\th\\bi\\Zj'`,
    );
    expect(mysqlString('plain')).toBe("'plain'");
  });

  it('refuses what no source row holds, rather than write something else', () => {
    expect(() => mysqlLiteral({ a: 1 })).toThrow(/no MySQL literal/);
    expect(() => mysqlLiteral(Number.NaN)).toThrow(/not a number/);
    expect(mysqlLiteral(undefined)).toBe('NULL');
    expect(mysqlLiteral(12n)).toBe('12');
  });
});
