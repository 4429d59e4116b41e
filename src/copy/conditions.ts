import type { Knex } from 'knex';
import type { Database } from '../db/connect.js';
import {
  FIRST_CUSTOM_RESOURCE_CLASS_ID,
  standardResourceClasses,
} from '../standard/standard-names.js';
import type { SourceShape } from './source.js';
import { count } from '../text/count.js';

/**
 * A condition found in the source. `blocking` ones stop the copy (the target's
 * unique indexes or foreign keys would reject the rows); `fixed-later` ones are
 * repaired by the online data migrations; the rest are reported.
 */
export interface Condition {
  id: string;
  severity: 'info' | 'warning' | 'fixed-later' | 'blocking';
  count: number;
  message: string;
  /** A few examples (names, keys), never more than ten. */
  examples?: string[];
  /** What to run or decide. */
  hint?: string;
}

const SAMPLE = 10;

async function scalar(conn: Knex, query: Knex.QueryBuilder): Promise<number> {
  const row = (await query.first()) as Record<string, unknown> | undefined;
  return Number(Object.values(row ?? {})[0] ?? 0);
}

/**
 * Finds what old clouds carry, reading the source inside the copy's snapshot
 * (`conn`) and asking the target's collation about name collisions.
 */
export async function findConditions(
  source: Database,
  conn: Knex,
  shape: SourceShape,
  target: Database,
  options: { skipOrphans: boolean },
): Promise<Condition[]> {
  const out: Condition[] = [];
  const present = (t: string) => shape.layouts[t]?.present ?? false;
  const hasColumn = (t: string, c: string) => shape.layouts[t]?.columns.includes(c) ?? false;
  const add = (c: Condition) => {
    if (c.count > 0) out.push(c);
  };

  if (present('resource_providers')) {
    const nullRoots = hasColumn('resource_providers', 'root_provider_id')
      ? await scalar(
          conn,
          conn('resource_providers').whereNull('root_provider_id').count({ n: '*' }),
        )
      : await scalar(conn, conn('resource_providers').count({ n: '*' }));
    add({
      id: 'null_root_provider_id',
      severity: 'fixed-later',
      count: nullRoots,
      message: `${count(nullRoots, 'resource provider')} without root_provider_id (created before Queens)`,
      hint: 'Fixed by the online data migration set_root_provider_ids, which migrate runs before upgrading past Train.',
    });
    if (hasColumn('resource_providers', 'root_provider_id')) {
      const unfixable = await scalar(
        conn,
        conn('resource_providers')
          .whereNull('root_provider_id')
          .whereNotNull('parent_provider_id')
          .count({ n: '*' }),
      );
      add({
        id: 'null_root_with_parent',
        severity: 'warning',
        count: unfixable,
        message: `${count(unfixable, 'provider')} ${unfixable === 1 ? 'has' : 'have'} a parent but no root: set_root_provider_ids gives each its parent's root`,
        hint: 'Nothing to do unless their parents form a cycle, which the online data migrations report (exit 2).',
      });
      for (const col of ['parent_provider_id', 'root_provider_id']) {
        const rows = await conn('resource_providers as r')
          .leftJoin('resource_providers as p', `r.${col}`, 'p.id')
          .whereNotNull(`r.${col}`)
          .whereNull('p.id')
          .select('r.id')
          .limit(SAMPLE);
        const n =
          rows.length === 0
            ? 0
            : await scalar(
                conn,
                conn('resource_providers as r')
                  .leftJoin('resource_providers as p', `r.${col}`, 'p.id')
                  .whereNotNull(`r.${col}`)
                  .whereNull('p.id')
                  .count({ n: '*' }),
              );
        add({
          id: `orphan_${col}`,
          severity: options.skipOrphans ? 'warning' : 'blocking',
          count: n,
          message: `${count(n, 'provider')} whose ${col} names a provider that does not exist (placement's foreign key rejects them)`,
          examples: rows.map((r: { id: unknown }) => `id=${String(r.id)}`),
          hint: options.skipOrphans
            ? `--skip-orphans: ${col} is copied as NULL for them.`
            : 'Fix them in the source, or re-run with --skip-orphans to copy NULL there instead.',
        });
      }
    }
  }

  if (present('allocations')) {
    let rows = 0;
    let consumers = 0;
    if (present('consumers')) {
      const r = (await conn('allocations as a')
        .leftJoin('consumers as c', 'c.uuid', 'a.consumer_id')
        .whereNull('c.id')
        .select(conn.raw('COUNT(*) AS n'), conn.raw('COUNT(DISTINCT a.consumer_id) AS d'))
        .first()) as { n: unknown; d: unknown } | undefined;
      rows = Number(r?.n ?? 0);
      consumers = Number(r?.d ?? 0);
    } else {
      const r = (await conn('allocations')
        .select(conn.raw('COUNT(*) AS n'), conn.raw('COUNT(DISTINCT consumer_id) AS d'))
        .first()) as { n: unknown; d: unknown } | undefined;
      rows = Number(r?.n ?? 0);
      consumers = Number(r?.d ?? 0);
    }
    add({
      id: 'allocations_without_consumer',
      severity: 'fixed-later',
      count: rows,
      message: `${count(rows, 'allocation')} of ${count(consumers, 'consumer')} ${rows === 1 ? 'has' : 'have'} no consumers row (written before Rocky)`,
      hint: 'Fixed by the online data migration create_incomplete_consumers, which migrate runs before upgrading past Train.',
    });
  }

  for (const table of ['allocations', 'inventories']) {
    if (!present(table)) continue;
    if (present('resource_providers')) {
      const n = await scalar(
        conn,
        conn(`${table} as x`)
          .leftJoin('resource_providers as r', 'r.id', 'x.resource_provider_id')
          .whereNull('r.id')
          .count({ n: '*' }),
      );
      add({
        id: `orphan_${table}_provider`,
        severity: 'warning',
        count: n,
        message: `${count(n, 'row')} of ${table} ${n === 1 ? 'points' : 'point'} at resource providers that do not exist`,
        hint: 'Copied as they are (placement has no foreign key there); "upgrade check" reports them as Orphaned Records.',
      });
    }
    const standardCount = standardResourceClasses().length;
    const unknown = present('resource_classes')
      ? await scalar(
          conn,
          conn(`${table} as x`)
            .leftJoin('resource_classes as c', 'c.id', 'x.resource_class_id')
            .where((w) =>
              w
                .where('x.resource_class_id', '>=', FIRST_CUSTOM_RESOURCE_CLASS_ID)
                .whereNull('c.id')
                .orWhere((o) =>
                  o
                    .where('x.resource_class_id', '>=', standardCount)
                    .where('x.resource_class_id', '<', FIRST_CUSTOM_RESOURCE_CLASS_ID),
                ),
            )
            .count({ n: '*' }),
        )
      : await scalar(
          conn,
          conn(table).where('resource_class_id', '>=', standardCount).count({ n: '*' }),
        );
    add({
      id: `unknown_class_${table}`,
      severity: 'warning',
      count: unknown,
      message: `${count(unknown, 'row')} of ${table} ${unknown === 1 ? 'uses' : 'use'} a resource class id that is neither standard nor in resource_classes`,
      hint: 'Copied as they are; placement cannot name their class.',
    });
  }

  if (present('resource_provider_aggregates')) {
    const n = await scalar(
      conn,
      conn('resource_provider_aggregates as x')
        .leftJoin('resource_providers as r', 'r.id', 'x.resource_provider_id')
        .modify((b) => {
          if (present('placement_aggregates'))
            b.leftJoin('placement_aggregates as g', 'g.id', 'x.aggregate_id');
        })
        .where((w) => {
          w.whereNull('r.id');
          if (present('placement_aggregates')) w.orWhereNull('g.id');
        })
        .count({ n: '*' }),
    );
    add({
      id: 'orphan_aggregate_links',
      severity: 'warning',
      count: n,
      message: `${count(n, 'provider-aggregate link')} ${n === 1 ? 'names' : 'name'} a missing provider or aggregate`,
      hint: 'Copied as they are (no foreign key); "upgrade check" reports them.',
    });
  }

  if (present('resource_provider_traits')) {
    const q = () =>
      conn('resource_provider_traits as x')
        .leftJoin('resource_providers as r', 'r.id', 'x.resource_provider_id')
        .leftJoin('traits as t', 't.id', 'x.trait_id')
        .where((w) => w.whereNull('r.id').orWhereNull('t.id'));
    const n = await scalar(conn, q().count({ n: '*' }));
    const rows =
      n === 0 ? [] : await q().select('x.resource_provider_id', 'x.trait_id').limit(SAMPLE);
    add({
      id: 'orphan_trait_links',
      severity: options.skipOrphans ? 'warning' : 'blocking',
      count: n,
      message: `${count(n, 'provider-trait link')} ${n === 1 ? 'names' : 'name'} a missing provider or trait (placement's foreign keys reject them)`,
      examples: rows.map(
        (r: { resource_provider_id: unknown; trait_id: unknown }) =>
          `resource_provider_id=${String(r.resource_provider_id)},trait_id=${String(r.trait_id)}`,
      ),
      hint: options.skipOrphans
        ? '--skip-orphans: they are not copied.'
        : 'Delete them in the source, or re-run with --skip-orphans to leave them behind.',
    });
  }

  if (present('consumers')) {
    const n = await scalar(
      conn,
      conn('consumers as c')
        .leftJoin('allocations as a', 'a.consumer_id', 'c.uuid')
        .whereNull('a.id')
        .count({ n: '*' }),
    );
    add({
      id: 'consumers_without_allocations',
      severity: 'info',
      count: n,
      message: `${count(n, 'consumer')} ${n === 1 ? 'holds' : 'hold'} no allocation (Pike/Queens never deleted them)`,
      hint: 'Copied as they are; placement ignores them.',
    });
    for (const [col, ref] of [
      ['project_id', 'projects'],
      ['user_id', 'users'],
    ] as const) {
      if (!present(ref)) continue;
      const m = await scalar(
        conn,
        conn('consumers as c')
          .leftJoin(`${ref} as p`, 'p.id', `c.${col}`)
          .whereNull('p.id')
          .count({ n: '*' }),
      );
      add({
        id: `orphan_consumer_${col}`,
        severity: 'warning',
        count: m,
        message: `${count(m, 'consumer')} ${m === 1 ? 'points' : 'point'} at a missing ${ref} row`,
        hint: 'Copied as they are; GET /allocations/{consumer} will not show them.',
      });
    }
  }

  for (const [table, columns] of Object.entries(shape.extraColumns)) {
    add({
      id: `dropped_columns_${table}`,
      severity: 'info',
      count: columns.length,
      message: `${table}.${columns.join(', ')} exist${columns.length === 1 ? 's' : ''} only in nova_api and ${columns.length === 1 ? 'is' : 'are'} not copied`,
    });
  }
  add({
    id: 'latin1_tables',
    severity: 'info',
    count: shape.latin1Tables.length,
    message: `${count(shape.latin1Tables.length, 'source table')} ${shape.latin1Tables.length === 1 ? 'uses' : 'use'} nova's latin1 charset; text is copied as characters, in the target's own charset`,
    examples: shape.latin1Tables,
  });

  await nameChecks(conn, shape, target, out);
  const charset = await target.dialect.narrowCharset(target.knex, 'resource_providers', 'name');
  if (charset && !out.some((c) => c.id.startsWith('unstorable_'))) {
    out.push({
      id: 'narrow_target_charset',
      severity: 'warning',
      count: 1,
      message: `The target's text is ${charset}: every name copies, but placement will refuse a provider, trait or class name beyond ${charset} that nova sends later`,
      hint: `Give the target database utf8mb4 before migrating: ALTER DATABASE ${target.spec.database ?? 'placement'} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci (or create it so).`,
    });
  }
  return out;
}

const MOJIBAKE = /[\u00c2\u00c3][\u0080-\u00bf]/;

/** Names the target's unique indexes would refuse, and names that look double-encoded. */
/**
 * How an operator renames one of a colliding group in nova_api. nova-manage
 * has no command for it; a provider is renamed through the Placement API that
 * nova still serves (osc-placement), a trait, class or aggregate only with SQL.
 */
const RENAME_HINTS: Readonly<Record<string, string>> = {
  resource_providers:
    'Rename one provider of each group while nova still serves placement: "openstack resource provider set --name NEW_NAME UUID" (osc-placement), or with SQL in nova_api (UPDATE resource_providers SET name = … WHERE uuid = …)',
};

async function nameChecks(
  conn: Knex,
  shape: SourceShape,
  target: Database,
  out: Condition[],
): Promise<void> {
  const checks: [string, string, number][] = [
    ['resource_providers', 'name', 200],
    ['traits', 'name', 255],
    ['resource_classes', 'name', 255],
    ['placement_aggregates', 'uuid', 36],
  ];
  for (const [table, column, length] of checks) {
    const layout = shape.layouts[table];
    if (!layout?.present || !layout.columns.includes(column)) continue;
    const values = (await conn(table).whereNotNull(column).pluck(column)).map(String);
    // Only names that could collide under some collation go to the server.
    const loose = new Map<string, string[]>();
    for (const v of values) {
      const k = v.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/ +$/, '');
      loose.set(k, [...(loose.get(k) ?? []), v]);
    }
    const candidates = [...loose.values()].filter((g) => g.length > 1).flat();
    const groups =
      candidates.length > 0
        ? await target.dialect.collidingValues(target.knex, candidates, length)
        : [];
    if (groups.length > 0) {
      out.push({
        id: `name_collisions_${table}`,
        severity: 'blocking',
        count: groups.length,
        message: `${count(groups.length, 'group')} of ${table}.${column} values ${groups.length === 1 ? 'is' : 'are'} distinct in nova_api but equal under the target's collation (its unique index would refuse them)`,
        examples: groups.slice(0, SAMPLE).map((g) => g.map((v) => JSON.stringify(v)).join(' = ')),
        hint: `${RENAME_HINTS[table] ?? `Change one of each group in nova_api with SQL (UPDATE ${table} SET ${column} = … WHERE id = …)`}, or create the target database with a case-sensitive collation (e.g. utf8mb4_bin).`,
      });
    }
    const charset = await target.dialect.narrowCharset(target.knex, table, column);
    const unstorable = charset
      ? await target.dialect.unstorableValues(target.knex, charset, values)
      : [];
    if (unstorable.length > 0) {
      out.push({
        id: `unstorable_${table}`,
        severity: 'blocking',
        count: unstorable.length,
        message: `${count(unstorable.length, 'value')} of ${table}.${column} cannot be stored in the target's ${charset} character set (the server would refuse ${unstorable.length === 1 ? 'it' : 'them'})`,
        examples: unstorable.slice(0, SAMPLE).map((v) => JSON.stringify(v)),
        hint: (await target.dialect.listTables(target.knex)).includes(table)
          ? `The target's tables already have ${charset}: convert each (ALTER TABLE ${table} CONVERT TO CHARACTER SET utf8mb4, and so on), or drop the target database and create it with CHARACTER SET utf8mb4 if it holds nothing but this tool's unfinished copy; then run again.`
          : `Give the target database utf8mb4 before anything is written: ALTER DATABASE ${target.spec.database ?? 'placement'} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci (or create it so), then run again.`,
      });
    }
    const garbled = values.filter((v) => MOJIBAKE.test(v));
    if (garbled.length > 0) {
      out.push({
        id: `double_encoded_${table}`,
        severity: 'warning',
        count: garbled.length,
        message: `${count(garbled.length, 'value')} of ${table}.${column} ${garbled.length === 1 ? 'looks' : 'look'} double-encoded (UTF-8 bytes stored as latin1 by a misconfigured client)`,
        examples: garbled.slice(0, SAMPLE),
        hint: 'They are copied exactly as nova_api holds them; fix the names afterwards if they are wrong.',
      });
    }
  }
}
