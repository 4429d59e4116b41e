/**
 * nova writing to nova_api while migrate copies it: every insert, delete and
 * update of any copied table between the snapshot and the end of the copy
 * must fail verification (22), one change per run, not only the changes a
 * count or a greatest id would show (an in-place UPDATE of allocations.used).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { describeEach } from '../helpers/each.js';
import { COPY_ORDER, copyTable } from '../../src/copy/tables.js';
import type { Database } from '../../src/db/connect.js';
import { ExitCode } from '../../src/errors/exit-codes.js';
import { migrateArgs, runWatching } from '../helpers/cli.js';
import { freshDatabases, testEngines, type TestDatabase } from '../helpers/databases.js';
import { novaApiSource } from '../helpers/nova-api.js';

const fresh = freshDatabases();
type Row = Record<string, unknown>;

/** A column of each table whose value an UPDATE changes (keys stay as they are). */
const UPDATED: Record<string, string> = {
  resource_classes: 'name',
  traits: 'name',
  projects: 'external_id',
  users: 'external_id',
  placement_aggregates: 'uuid',
  resource_providers: 'generation',
  inventories: 'total',
  allocations: 'used',
  consumers: 'generation',
  resource_provider_aggregates: 'created_at',
  resource_provider_traits: 'created_at',
};

async function lastRow(knex: Knex, table: string): Promise<Row> {
  const spec = copyTable(table);
  const row = (await knex(table)
    .orderBy(spec.key.map((column) => ({ column, order: 'desc' as const })))
    .first()) as Row | undefined;
  if (!row) throw new Error(`the generated source has no ${table} row`);
  return row;
}

/** A new row for `table`, unique where placement's keys and unique constraints need it. */
async function newRow(knex: Knex, table: string): Promise<Row> {
  const row = { ...(await lastRow(knex, table)) };
  const tag = randomUUID().slice(0, 8);
  if ('id' in row) row['id'] = Number(row['id']) + 100_000;
  for (const unique of ['uuid', 'external_id']) if (unique in row) row[unique] = randomUUID();
  if (table === 'traits') row['name'] = `CUSTOM_PU_${tag.toUpperCase()}`;
  if (table === 'resource_classes') row['name'] = `CUSTOM_PU_${tag.toUpperCase()}`;
  if (table === 'resource_providers') {
    row['name'] = `pu-new-${tag}`;
    // No reference to itself: InnoDB refuses to delete a row that names itself.
    if ('root_provider_id' in row) row['root_provider_id'] = null;
    if ('parent_provider_id' in row) row['parent_provider_id'] = null;
  }
  if (table === 'inventories') row['resource_class_id'] = Number(row['resource_class_id']) + 50_000;
  if (table === 'resource_provider_aggregates')
    row['aggregate_id'] = Number(row['aggregate_id']) + 100_000;
  if (table === 'resource_provider_traits') {
    // A trait the provider does not have yet (nova_api has foreign keys here).
    const linked = (await knex(table)
      .where({ resource_provider_id: row['resource_provider_id'] })
      .pluck('trait_id')) as unknown[];
    const free = (await knex('traits').whereNotIn('id', linked.map(Number)).first('id')) as
      Row | undefined;
    row['trait_id'] = free?.['id'];
  }
  return row;
}

function keyOf(table: string, row: Row): Row {
  return Object.fromEntries(copyTable(table).key.map((k) => [k, row[k]]));
}

type Change = 'insert' | 'update' | 'delete';

/** Prepares one change of `table` and returns what makes it (run while migrate copies). */
async function prepareChange(
  db: Database,
  table: string,
  change: Change,
): Promise<() => Promise<void>> {
  const knex = db.knex;
  if (change === 'insert') {
    const row = await newRow(knex, table);
    return async () => void (await knex(table).insert(row));
  }
  if (change === 'delete') {
    // A row made for the purpose, before the snapshot, so nothing references it.
    const row = await newRow(knex, table);
    await knex(table).insert(row);
    return async () => void (await knex(table).where(keyOf(table, row)).del());
  }
  const row = await lastRow(knex, table);
  const column = UPDATED[table]!;
  const old = row[column];
  const value =
    column === 'created_at'
      ? new Date(Date.UTC(2001, 0, 1, 0, 0, 0))
      : typeof old === 'number' ||
          column === 'total' ||
          column === 'used' ||
          column === 'generation'
        ? Number(old) + 1
        : column === 'name'
          ? `CUSTOM_PU_${randomUUID().slice(0, 8).toUpperCase()}`
          : randomUUID();
  return async () =>
    void (await knex(table)
      .where(keyOf(table, row))
      .update({ [column]: value }));
}

// SQLite writers wait for the snapshot's read lock, so nova cannot change it mid-copy there.
const engines = testEngines().filter((e) => e !== 'sqlite');
const cases = COPY_ORDER.flatMap((table) =>
  (['insert', 'update', 'delete'] as const).map((change) => [table, change] as const),
);

describeEach(engines)('nova changing nova_api during the copy (%s)', (engine) => {
  let source: TestDatabase | undefined;
  let db: Database | undefined;

  it.each(cases)('a change to %s (%s) is detected: exit 22', async (table, change) => {
    source ??= await novaApiSource(fresh, engine, 'changes_src', {
      release: 'train',
      providers: 12,
      consumers: 500,
      seed: 8,
    });
    db ??= await source.open();
    const make = await prepareChange(db, table, change);
    const target = await fresh(engine, 'changes_dst');
    let changedAt = -1;
    // The change is made as the copy starts (the snapshot is taken by then),
    // in small batches so that the copy outlasts it by far.
    const run = await runWatching(
      migrateArgs(source, target, '--apply', '--batch-size', '10', '--revision', 'stein'),
      (line) => line.startsWith('copy '),
      async () => {
        await make();
        changedAt = Date.now();
      },
    );
    const log = run.lines.join('\n');
    expect(run.actError, log).toBeNull();
    expect(changedAt, `the change was never made:\n${log}`).toBeGreaterThan(0);
    const verifyLine = run.timestamps.findIndex((_, i) => run.lines[i]!.startsWith('Verifying'));
    // A change made after verification began tests nothing: say so rather than pass.
    expect(
      verifyLine === -1 || run.timestamps[verifyLine]! >= changedAt,
      `the change landed after the copy:\n${log}`,
    ).toBe(true);
    expect(run.code, `${log}\n${run.stdout}`).toBe(ExitCode.VERIFICATION_FAILED);
    expect(run.stdout).toContain(`nova changed ${table} while the copy ran`);
  });

  it('closes the source connection', async () => {
    await db?.close();
  });
});
