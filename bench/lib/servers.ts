/**
 * The database servers the benchmarks run on (the same machine as the tools),
 * and scratch databases on them. Override with PU_BENCH_MYSQL_URL /
 * PU_BENCH_POSTGRES_URL (the database part is replaced).
 */
import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl, type Engine } from '../../src/db/url.js';

export type ServerEngine = Exclude<Engine, 'sqlite'>;

export const ADMIN_URLS: Record<ServerEngine, string> = {
  mysql:
    process.env['PU_BENCH_MYSQL_URL'] ??
    process.env['PU_TEST_MYSQL_URL'] ??
    'mysql+pymysql://root@127.0.0.1:3306/mysql',
  postgresql:
    process.env['PU_BENCH_POSTGRES_URL'] ??
    process.env['PU_TEST_POSTGRES_URL'] ??
    'postgresql://postgres@127.0.0.1:5432/postgres',
};

/** A database server the bench uses: the machine's (named by its engine) or one it started. */
export interface DbServer {
  engine: ServerEngine;
  adminUrl: string;
}

export type ServerRef = ServerEngine | DbServer;

function server(ref: ServerRef): DbServer {
  return typeof ref === 'string' ? { engine: ref, adminUrl: ADMIN_URLS[ref] } : ref;
}

/** The engine of a server. */
export function engineOf(ref: ServerRef): ServerEngine {
  return server(ref).engine;
}

/** The URL of database `name` on the server. */
export function urlFor(ref: ServerRef, name: string): string {
  return server(ref).adminUrl.replace(/\/[^/?]*(?=\?|$)/, `/${name}`);
}

/** Host, port and user for the command-line clients (mysqldump, psql, pgloader). */
export function clientArgs(ref: ServerRef): {
  host: string;
  port: number;
  user: string;
  password?: string;
} {
  const { engine, adminUrl } = server(ref);
  const spec = parseConnectionUrl(adminUrl, 'benchmark server');
  return {
    host: spec.host ?? '127.0.0.1',
    port: spec.port ?? (engine === 'mysql' ? 3306 : 5432),
    user: spec.user ?? (engine === 'mysql' ? 'root' : 'postgres'),
    password: spec.password,
  };
}

async function admin(ref: ServerRef): Promise<Database> {
  return openDatabase(parseConnectionUrl(server(ref).adminUrl, 'benchmark server'), {
    max: 1,
    connectTimeoutSeconds: 5,
  });
}

/** A database name unique to this run. */
export function scratchName(label: string): string {
  return `pu_bench_${label}_${randomBytes(3).toString('hex')}`;
}

/** Drops (if there) and creates an empty database. */
export async function recreateDatabase(ref: ServerRef, name: string): Promise<void> {
  const db = await admin(ref);
  try {
    if (engineOf(ref) === 'mysql') {
      await db.knex.raw(`DROP DATABASE IF EXISTS \`${name}\``);
      await db.knex.raw(`CREATE DATABASE \`${name}\``);
    } else {
      await db.knex.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await db.knex.raw(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await db.close();
  }
}

export async function dropDatabase(ref: ServerRef, name: string): Promise<void> {
  const db = await admin(ref);
  try {
    await db.knex.raw(
      engineOf(ref) === 'mysql'
        ? `DROP DATABASE IF EXISTS \`${name}\``
        : `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`,
    );
  } finally {
    await db.close();
  }
}

/** Why a server cannot be used, or true. */
export async function serverAvailable(engine: ServerEngine): Promise<true | string> {
  try {
    const db = await admin(engine);
    await db.close();
    return true;
  } catch (err) {
    return `${engine} server unreachable: ${(err as Error).message}`;
  }
}

/** The server's version string, for the record. */
export async function serverVersion(engine: ServerEngine): Promise<string | null> {
  try {
    const db = await admin(engine);
    try {
      const [row] = db.dialect.rows<{ v: string }>(await db.knex.raw('SELECT VERSION() AS v'));
      return row?.v ?? null;
    } finally {
      await db.close();
    }
  } catch {
    return null;
  }
}

/** Row count of one table of database `name`. */
export async function countRows(ref: ServerRef, name: string, table: string): Promise<number> {
  const db = await openDatabase(parseConnectionUrl(urlFor(ref, name), 'benchmark'), { max: 1 });
  try {
    const [row] = db.dialect.rows<{ n: number | string }>(
      await db.knex.raw(`SELECT COUNT(*) AS n FROM ${db.dialect.quote(table)}`),
    );
    return Number(row?.n ?? 0);
  } finally {
    await db.close();
  }
}
