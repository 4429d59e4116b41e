import type { Knex } from 'knex';
import { standardResourceClasses } from '../standard/standard-names.js';

/** SELECT COUNT(*) of a query, as a number on every engine (PostgreSQL returns bigint text). */
export async function countRows(query: Knex.QueryBuilder): Promise<number> {
  const row = (await query.clearSelect().clearOrder().count({ n: '*' }).first()) as
    { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/** Resource class names by id: the table's rows, and the standard ids nova never stored. */
export async function resourceClassNames(knex: Knex): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  standardResourceClasses().forEach((name, id) => names.set(id, name));
  for (const r of (await knex('resource_classes').select('id', 'name')) as {
    id: number | string;
    name: string;
  }[]) {
    names.set(Number(r.id), r.name);
  }
  return names;
}

/** How a provider is named in details: its name and uuid. */
export function providerLabel(p: {
  name?: string | null;
  uuid?: string | null;
  id: unknown;
}): string {
  if (p.name && p.uuid) return `${p.name} (${p.uuid})`;
  return p.uuid ?? p.name ?? `#${String(p.id)}`;
}

/** "a, b, c and 4 more". */
export function listSome(items: readonly string[], total = items.length, shown = 5): string {
  const head = items.slice(0, shown);
  const more = total - head.length;
  if (more > 0) return `${head.join('; ')} and ${more} more`;
  return head.join('; ');
}
