/**
 * Where the test database servers are, and how to reach them as an admin.
 * Override with PU_TEST_MYSQL_URL / PU_TEST_POSTGRES_URL (the database part is ignored).
 */
import type { Engine } from '../../src/db/url.js';

export const ADMIN_URLS: Record<Exclude<Engine, 'sqlite'>, string> = {
  mysql: process.env['PU_TEST_MYSQL_URL'] ?? 'mysql+pymysql://root@127.0.0.1:3306/mysql',
  postgresql:
    process.env['PU_TEST_POSTGRES_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
};

/** The engines the integration tests loop over, narrowed by PU_TEST_ENGINES=sqlite,mysql. */
export function requestedEngines(): Engine[] {
  const all: Engine[] = ['sqlite', 'mysql', 'postgresql'];
  const env = process.env['PU_TEST_ENGINES'];
  if (!env) return all;
  const wanted = env.split(',').map((s) => s.trim());
  return all.filter((e) => wanted.includes(e));
}
