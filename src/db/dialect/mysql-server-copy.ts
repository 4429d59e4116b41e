/**
 * Copying inside one MySQL/MariaDB server, or one Galera cluster: the
 * target's connection reads nova_api's tables itself (INSERT … SELECT), and
 * both sides' checksums are computed by the server, so no row crosses into
 * Node. Whether two connections share a server is proved, never guessed
 * from host names: a named lock taken on the source's connection is seen
 * held from the target's (named locks are per server), or both report the
 * same Galera cluster state uuid (random, one per cluster).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { ServerCopy } from './dialect.js';

type Rows = (result: unknown) => Record<string, unknown>[];

const quote = (identifier: string) => `\`${identifier.replace(/`/g, '``')}\``;

async function clusterStateUuid(db: Knex, rows: Rows): Promise<string | null> {
  const on = rows(await db.raw("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'"))[0];
  if (String(on?.['Value'] ?? '') !== 'ON') return null;
  const status = rows(
    await db.raw(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_state_uuid', 'wsrep_ready', 'wsrep_cluster_status')",
    ),
  );
  const value = (name: string) =>
    String(status.find((r) => String(r['Variable_name']) === name)?.['Value'] ?? '');
  if (value('wsrep_ready') !== 'ON' || value('wsrep_cluster_status') !== 'Primary') return null;
  const uuid = value('wsrep_cluster_state_uuid');
  return uuid === '' ? null : uuid;
}

export function mysqlServerCopy(rows: Rows): ServerCopy {
  return {
    async sharedServer(source: Knex, target: Knex): Promise<string | null> {
      // Named locks are the server's own: one held by the source's session
      // and seen from the target's proves one server. (A Galera node keeps
      // them to itself, so two nodes of a cluster fall through to the uuid.)
      const name = `placement-upgrade-probe-${randomUUID()}`;
      try {
        const [took] = rows(await source.raw('SELECT GET_LOCK(?, 0) AS took', [name]));
        if (Number(took?.['took']) === 1) {
          try {
            const [seen] = rows(await target.raw('SELECT IS_USED_LOCK(?) AS holder', [name]));
            if (seen?.['holder'] !== null && seen?.['holder'] !== undefined)
              return 'the same server';
          } finally {
            await source.raw('SELECT RELEASE_LOCK(?)', [name]);
          }
        }
      } catch {
        // GET_LOCK refused (some Galera configurations): the cluster may still tell.
      }
      const [a, b] = [await clusterStateUuid(source, rows), await clusterStateUuid(target, rows)];
      return a !== null && a === b ? `the same Galera cluster (${a})` : null;
    },

    async unreadable(
      conn: Knex,
      schema: string,
      tables: readonly string[],
    ): Promise<string | null> {
      for (const t of tables) {
        try {
          await conn.raw(`SELECT 1 FROM ${quote(schema)}.${quote(t)} LIMIT 0`);
        } catch {
          return t;
        }
      }
      return null;
    },

    qualified: (schema: string, table: string) => `${quote(schema)}.${quote(table)}`,

    checksumSelect(values: readonly string[]): string {
      // Each row's canonical text: its values QUOTE()d (NULL stays the bare
      // word NULL, text is quoted and escaped), in utf8mb4 whatever the
      // columns' charset; its SHA-1 cut into two 64-bit halves, XORed over
      // the rows (keys are unique, so no row cancels another).
      const text = `CONVERT(CONCAT_WS(',', ${values.map((v) => `QUOTE(${v})`).join(', ')}) USING utf8mb4)`;
      const half = (from: number) =>
        `CAST(COALESCE(BIT_XOR(CAST(CONV(SUBSTRING(h.h, ${from}, 16), 16, 10) AS UNSIGNED)), 0) AS CHAR)`;
      return `SELECT COUNT(*) AS n, ${half(1)} AS a, ${half(17)} AS b FROM (SELECT SHA1(${text}) AS h {from}) h`;
    },
  };
}
