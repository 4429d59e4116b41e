import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalRow,
  canonicalValue,
  combineChecksums,
  TableChecksum,
} from '../../src/copy/checksum.js';
import { keysetAfter, splitKeyRange } from '../../src/copy/reader.js';
import { copyLines } from '../../src/db/dialect/postgresql.js';
import { describeSource } from '../../src/copy/source.js';
import { copyTable, COPY_ORDER } from '../../src/copy/tables.js';
import { parseRcText, readRcConnections, writeRcTemplate } from '../../src/config/rc-file.js';
import { ConfigError } from '../../src/errors/errors.js';
import type { SchemaSnapshot, TableSnapshot } from '../../src/schema/model.js';

describe('canonical values: what three engines return for one stored value', () => {
  it.each([
    ['integer', 42, '42'],
    ['integer', '42', '42'],
    ['float', 16, '16'],
    ['float', 1.5, '1.5'],
    ['float', 0.8999999761581421, '0.9'], // MySQL FLOAT read as a double
    ['float', '0.9', '0.9'],
    ['datetime', '2018-01-02 03:04:05', '2018-01-02 03:04:05'],
    ['datetime', '2018-01-02 03:04:05.123456', '2018-01-02 03:04:05'],
    ['datetime', '2018-01-02T03:04:05', '2018-01-02 03:04:05'],
    ['varchar', 'cn1-é', 'cn1-é'],
    ['varchar', null, null],
  ])('%s %j → %j', (kind, value, expected) => {
    expect(canonicalValue(kind, value)).toBe(expected);
  });

  it('checksums depend on every column, not on the order of rows nor on how they were sliced', () => {
    const t = copyTable('traits');
    const sum = (rows: Record<string, unknown>[]) => {
      const c = new TableChecksum(t);
      rows.forEach((r) => c.add(r));
      return c.digest();
    };
    const a = { id: 1, name: 'A', created_at: null, updated_at: null };
    const b = { id: 2, name: 'B', created_at: null, updated_at: null };
    const c = { id: 3, name: 'C', created_at: '2019-01-01 00:00:00', updated_at: null };
    expect(sum([a, b])).toMatch(/^[0-9a-f]{32}$/);
    expect(sum([a, b])).toBe(sum([{ ...a }, { ...b }]));
    expect(sum([a, b])).toBe(sum([b, a]));
    // Slices (key ranges, or a run and its resumption) add up to the whole.
    expect(combineChecksums([sum([a]), sum([b, c])])).toBe(sum([a, b, c]));
    expect(combineChecksums([sum([a, b]), sum([c])])).toBe(sum([a, b, c]));
    expect(combineChecksums([sum([c]), sum([a]), sum([b])])).toBe(sum([a, b, c]));
    expect(sum([a, b])).not.toBe(sum([a, { ...b, name: 'b' }]));
    // A row twice is not the row once; values moved between rows are not the same rows.
    expect(sum([a, a, b])).not.toBe(sum([a, b]));
    expect(sum([a, b])).not.toBe(
      sum([
        { ...a, name: 'B' },
        { ...b, name: 'A' },
      ]),
    );
    expect(canonicalRow(t, a)).toBe('[null,null,"1","A"]');
  });

  it('tells NULL, empty text and a NUL character apart, and values cannot run into each other', () => {
    const t = copyTable('traits');
    const one = (name: unknown, created_at: unknown = null) => {
      const c = new TableChecksum(t);
      c.add({ id: 1, name, created_at, updated_at: null });
      return c.digest();
    };
    expect(new Set([one(null), one(''), one('\0'), one('0')]).size).toBe(4);
    expect(one('2018-01-01 00:00:00', null)).not.toBe(one(null, '2018-01-01 00:00:00'));
  });

  it('sees a change in any one of 50,000 rows, however they are buffered', () => {
    const t = copyTable('traits');
    const rows = Array.from({ length: 50_000 }, (_, i) => ({
      id: i + 1,
      name: `CUSTOM_TRAIT_${i}`,
      created_at: '2019-04-01 10:00:00',
      updated_at: null,
    }));
    const sum = (rs: Record<string, unknown>[]) => {
      const c = new TableChecksum(t);
      rs.forEach((r) => c.add(r));
      return c.digest();
    };
    const base = sum(rows);
    expect(sum(rows.map((r) => ({ ...r })))).toBe(base);
    for (const i of [0, 1234, 49_999]) {
      const changed = rows.map((r, j) => (j === i ? { ...r, name: `${r.name}x` } : r));
      expect(sum(changed)).not.toBe(base);
    }
  });
});

describe('keyset pagination', () => {
  const q = (s: string) => `"${s}"`;
  it('spells out composite keys so every engine uses the index', () => {
    expect(keysetAfter(['id'], { id: 5 }, q)).toEqual({
      condition: '("id" > ?)',
      bindings: [5],
    });
    expect(keysetAfter(['a', 'b'], { a: 1, b: 2 }, q)).toEqual({
      condition: '("a" > ?) OR ("a" = ? AND "b" > ?)',
      bindings: [1, 1, 2],
    });
  });
});

describe('splitting a key range into slices', () => {
  const covers = (ranges: ReturnType<typeof splitKeyRange>, id: number) =>
    ranges.filter((r) => (r.above === null || id > r.above) && (r.upTo === null || id <= r.upTo))
      .length;

  it('gives slices of about equal width, open at both ends, that cover every key once', () => {
    const ranges = splitKeyRange(1, 1_000_000, 4);
    expect(ranges).toEqual([
      { above: null, upTo: 250_000 },
      { above: 250_000, upTo: 500_000 },
      { above: 500_000, upTo: 750_000 },
      { above: 750_000, upTo: null },
    ]);
    for (const id of [-5, 0, 1, 250_000, 250_001, 999_999, 1_000_000, 2_000_000])
      expect(covers(ranges, id)).toBe(1);
  });

  it('never makes more slices than keys, and one slice is the whole table', () => {
    expect(splitKeyRange(7, 8, 5)).toEqual([
      { above: null, upTo: 7 },
      { above: 7, upTo: null },
    ]);
    expect(splitKeyRange(1, 100, 1)).toEqual([{ above: null, upTo: null }]);
    expect(splitKeyRange(3, 3, 4)).toEqual([{ above: null, upTo: null }]);
  });
});

describe('recognising the release of a nova_api', () => {
  const table = (columns: readonly string[], collation?: string): TableSnapshot => ({
    columns: columns.map((name) => ({
      name,
      type: 'int',
      nullable: true,
      default: null,
      autoincrement: false,
    })),
    primaryKey: { name: null, columns: [] },
    uniques: [],
    indexes: [],
    foreignKeys: [],
    collation,
  });
  const full = (t: string) => [...copyTable(t).columns];
  function shape(tables: Record<string, readonly string[]>): SchemaSnapshot {
    return {
      tables: Object.fromEntries(
        Object.entries(tables).map(([n, c]) => [n, table(c, 'latin1_swedish_ci')]),
      ),
    };
  }
  const newton = {
    resource_providers: [
      ...full('resource_providers').filter((c) => !c.endsWith('_provider_id')),
      'can_host',
    ],
    inventories: full('inventories'),
    allocations: full('allocations'),
    resource_provider_aggregates: full('resource_provider_aggregates'),
    cell_mappings: ['id'],
  };
  const ocata = {
    ...newton,
    resource_classes: full('resource_classes'),
    placement_aggregates: full('placement_aggregates'),
  };
  const pike = {
    ...ocata,
    traits: full('traits'),
    resource_provider_traits: full('resource_provider_traits'),
    consumers: full('consumers').filter((c) => c !== 'generation'),
    projects: full('projects'),
    users: full('users'),
  };
  const queens = { ...pike, resource_providers: [...full('resource_providers'), 'can_host'] };
  const rocky = { ...queens, consumers: full('consumers') };

  it.each([
    ['newton', newton, null],
    ['ocata', ocata, null],
    ['pike', pike, null],
    ['queens', queens, null],
    ['rocky', rocky, '61'],
    ['stein', rocky, '62'],
    ['train or later', rocky, '67'],
    ['rocky or later', rocky, null],
    ['none', { cell_mappings: ['id'] }, null],
  ] as const)('%s', (release, tables, version) => {
    const s = describeSource(shape(tables), version);
    expect(s.release).toBe(release);
  });

  it("tells placement's own database from a nova_api", () => {
    const placementTables = Object.fromEntries(
      Object.entries(rocky).filter(([name]) => name !== 'cell_mappings'),
    );
    const placement = { ...placementTables, alembic_version: ['version_num'] };
    const s = describeSource(shape(placement), 'b4ed3a175331');
    expect(s.release).toBe('placement');
    expect(s.placementDatabase).toEqual({ revision: 'b4ed3a175331' });
    expect(s.novaSchemaVersion).toBeNull();
    // Unstamped, but with a table only placement has.
    expect(
      describeSource(shape({ ...placementTables, consumer_types: ['id'] }), null).release,
    ).toBe('placement');
    // nova_api from Xena on: alembic too, with cell_mappings. Xena's initial
    // revision is Xena's, not "yoga or later"; Yoga's head stays to this day.
    const alembicNova = (revision: string) =>
      describeSource(shape({ ...rocky, alembic_version: ['version_num'] }), revision);
    expect(alembicNova('d67eeaabee36').release).toBe('xena');
    expect(alembicNova('d67eeaabee36').placementDatabase).toBeNull();
    expect(alembicNova('b30f573d3377').release).toBe('yoga or later');
    expect(alembicNova('0123456789ab').release).toBe('xena or later');
    // Only placement tables, nothing to say whose: still read as a nova_api.
    expect(describeSource(shape(placementTables), null).placementDatabase).toBeNull();
  });

  it('lists can_host as a column not copied, and latin1 tables', () => {
    const s = describeSource(shape(newton), '20');
    expect(s.extraColumns).toEqual({ resource_providers: ['can_host'] });
    expect(s.latin1Tables).toContain('allocations');
    expect(s.layouts['traits']!.present).toBe(false);
    expect(s.layouts['resource_providers']!.columns).not.toContain('root_provider_id');
  });

  it("copies in an order placement's foreign keys accept", () => {
    expect(COPY_ORDER.indexOf('traits')).toBeLessThan(
      COPY_ORDER.indexOf('resource_provider_traits'),
    );
    expect(COPY_ORDER.indexOf('resource_providers')).toBeLessThan(
      COPY_ORDER.indexOf('resource_provider_traits'),
    );
    expect(COPY_ORDER).toHaveLength(11);
  });
});

describe('the upstream rc file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pu-rc-'));

  it('reads NAME=value lines, quoted or exported', () => {
    expect(parseRcText('# c\nexport A="x y"\nB=\'p#w\'\nC=plain\n\nnot a line\n')).toEqual({
      A: 'x y',
      B: 'p#w',
      C: 'plain',
    });
  });

  it('builds both connections, passwords kept apart from the URLs', () => {
    const file = join(dir, 'ok.rc');
    writeFileSync(
      file,
      'NOVA_API_DB=nova_api\nNOVA_API_USER=nova\nNOVA_API_PASS="s3cr@t/pw"\nNOVA_API_DB_HOST=fd00::1\n' +
        'PLACEMENT_DB=placement\nPLACEMENT_USER=placement\nPLACEMENT_PASS=x\nPLACEMENT_DB_HOST=db\nMIGRATE_TABLES="traits users"\n',
    );
    const rc = readRcConnections(file, 'mysql');
    expect(rc.source).toMatchObject({
      url: 'mysql+pymysql://nova@[fd00::1]/nova_api',
      password: 's3cr@t/pw',
    });
    expect(rc.target.url).toBe('mysql+pymysql://placement@db/placement');
    expect(rc.tables).toEqual(['traits', 'users']);
    expect(readRcConnections(file, 'postgresql').source.url).toMatch(/^postgresql:\/\//);
  });

  it('names every missing variable', () => {
    expect(() => readRcConnections('-', 'mysql', { NOVA_API_DB: 'x' })).toThrow(ConfigError);
    expect(() => readRcConnections('-', 'mysql', { NOVA_API_DB: 'x' })).toThrow(
      /NOVA_API_USER, NOVA_API_PASS/,
    );
  });

  it('--mkconfig writes mode 0600 and never overwrites', () => {
    const file = join(dir, 'new.rc');
    writeRcTemplate(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => writeRcTemplate(file)).toThrow(/already exists/);
  });
});

describe("PostgreSQL COPY's text format", () => {
  it('writes NULL as \\N and escapes backslash, tab, newline and carriage return', () => {
    expect(copyLines([[1, null, 'a\tb', 'c\\d', 'e\nf\rg', 0.5, '']])).toBe(
      '1\t\\N\ta\\tb\tc\\\\d\te\\nf\\rg\t0.5\t\n',
    );
    // A literal backslash-N is text, not NULL.
    expect(copyLines([['\\N']])).toBe('\\\\N\n');
  });

  it('escapes backspace, form feed and vertical tab as COPY TO prints them, and no other control character', () => {
    expect(copyLines([['a\bb\fc\vd\u0001e']])).toBe('a\\bb\\fc\\vd\u0001e\n');
  });
});
