/**
 * Fresh, uniquely named databases for one test file, on a real server (or a
 * temporary SQLite file), dropped afterwards. Never a mock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/connect.js';
import { parseConnectionUrl, type Engine } from '../../src/db/url.js';
import { ADMIN_URLS } from './servers.js';

/** The engines to loop over in this run (servers that answered in global setup). */
export function testEngines(): Engine[] {
  return inject('engines');
}

export interface TestDatabase {
  engine: Engine;
  name: string;
  /** A URL the CLI accepts. */
  url: string;
  /** Opens the database through the project's own connection layer. */
  open(): Promise<Database>;
  drop(): Promise<void>;
}

function urlFor(engine: Engine, name: string, dir?: string): string {
  if (engine === 'sqlite') return `sqlite:///${join(dir!, `${name}.sqlite`)}`;
  // Swap the admin URL's database for ours, keeping any ?query.
  return ADMIN_URLS[engine].replace(/\/[^/?]*(?=\?|$)/, `/${name}`);
}

async function admin(engine: Exclude<Engine, 'sqlite'>): Promise<Database> {
  return openDatabase(parseConnectionUrl(ADMIN_URLS[engine], 'test admin'), { max: 1 });
}

/** Runs `work` on the database opened through the project's own layer, then closes it. */
export async function withOpen<T>(
  db: { open(): Promise<Database> },
  work: (d: Database) => Promise<T>,
): Promise<T> {
  const d = await db.open();
  try {
    return await work(d);
  } finally {
    await d.close();
  }
}

/** Creates an empty database; `charset` sets MySQL's database default (nova used latin1). */
export async function createTestDatabase(
  engine: Engine,
  prefix: string,
  options: { charset?: string } = {},
): Promise<TestDatabase> {
  const name = `pu_${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'pu-test-'));
    const url = urlFor(engine, name, dir);
    return {
      engine,
      name,
      url,
      open: () => openDatabase(parseConnectionUrl(url, 'test'), { max: 1 }),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const server = await admin(engine);
  try {
    if (engine === 'mysql') {
      await server.knex.raw(
        `CREATE DATABASE \`${name}\`${options.charset ? ` CHARACTER SET ${options.charset}` : ''}`,
      );
    } else {
      await server.knex.raw(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await server.close();
  }
  const url = urlFor(engine, name);
  return {
    engine,
    name,
    url,
    open: () => openDatabase(parseConnectionUrl(url, 'test'), { max: 4 }),
    drop: async () => {
      const s = await admin(engine);
      try {
        if (engine === 'mysql') await s.knex.raw(`DROP DATABASE IF EXISTS \`${name}\``);
        else await s.knex.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await s.close();
      }
    },
  };
}

/**
 * A factory of fresh databases for one test file: each is dropped when the
 * file's tests are done (registers its own afterAll).
 */
export function freshDatabases(): (
  engine: Engine,
  prefix: string,
  options?: { charset?: string },
) => Promise<TestDatabase> {
  const created: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(created.map((d) => d.drop()));
  });
  return async (engine, prefix, options) => {
    const d = await createTestDatabase(engine, prefix, options);
    created.push(d);
    return d;
  };
}
