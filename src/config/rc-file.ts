import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { ConfigError } from '../errors/errors.js';
import { registerSecret } from '../errors/redact.js';
import type { Engine } from '../db/url.js';

/**
 * The rc file of placement's mysql-migrate-db.sh / postgresql-migrate-db.sh,
 * so that playbooks written for the upstream script keep their configuration.
 */
export const RC_VARIABLES = [
  'NOVA_API_DB',
  'NOVA_API_USER',
  'NOVA_API_PASS',
  'NOVA_API_DB_HOST',
  'PLACEMENT_DB',
  'PLACEMENT_USER',
  'PLACEMENT_PASS',
  'PLACEMENT_DB_HOST',
] as const;

export interface RcConnections {
  source: { url: string; password: string; origin: string };
  target: { url: string; password: string; origin: string };
  /** MIGRATE_TABLES, when set. */
  tables?: string[];
}

/** Reads NAME=value lines (optionally `export`ed and quoted) as the shell would for this simple format. */
export function parseRcText(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    if (/^'.*'$/.test(value)) value = value.slice(1, -1);
    else if (/^".*"$/.test(value)) value = value.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    out[m[1]!] = value;
  }
  return out;
}

/**
 * Builds both connections from an rc file (or, for "-", from the
 * environment, as `mysql-migrate-db.sh --migrate -` does).
 */
export function readRcConnections(
  file: string,
  engine: Engine,
  env: NodeJS.ProcessEnv = process.env,
): RcConnections {
  let vars: Record<string, string | undefined>;
  if (file === '-') vars = env;
  else {
    try {
      vars = parseRcText(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(
        `Cannot read the rc file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}.`,
        'Write one with --mkconfig FILE, or give "-" to read the variables from the environment.',
        err,
      );
    }
  }
  registerSecret(vars['NOVA_API_PASS']);
  registerSecret(vars['PLACEMENT_PASS']);
  const missing = RC_VARIABLES.filter((v) => vars[v] === undefined || vars[v] === '');
  const where = file === '-' ? 'the environment' : file;
  if (missing.length > 0) {
    throw new ConfigError(
      `The migrate configuration in ${where} is incomplete: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set.`,
      'Every one of NOVA_API_DB, NOVA_API_USER, NOVA_API_PASS, NOVA_API_DB_HOST, PLACEMENT_DB, PLACEMENT_USER, PLACEMENT_PASS and PLACEMENT_DB_HOST is needed (--mkconfig FILE writes a template).',
    );
  }
  const scheme = engine === 'postgresql' ? 'postgresql' : 'mysql+pymysql';
  const host = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  const url = (user: string, h: string, db: string) =>
    `${scheme}://${encodeURIComponent(user)}@${host(h)}/${encodeURIComponent(db)}`;
  const tables = vars['MIGRATE_TABLES']?.split(/[\s,]+/).filter(Boolean);
  return {
    source: {
      url: url(vars['NOVA_API_USER']!, vars['NOVA_API_DB_HOST']!, vars['NOVA_API_DB']!),
      password: vars['NOVA_API_PASS']!,
      origin: `${where} (NOVA_API_*)`,
    },
    target: {
      url: url(vars['PLACEMENT_USER']!, vars['PLACEMENT_DB_HOST']!, vars['PLACEMENT_DB']!),
      password: vars['PLACEMENT_PASS']!,
      origin: `${where} (PLACEMENT_*)`,
    },
    tables: tables && tables.length > 0 ? tables : undefined,
  };
}

const TEMPLATE = `# placement-upgrade migrate configuration (the format of placement's
# mysql-migrate-db.sh). Keep this file private: it holds passwords.
# Use: placement-upgrade migrate --rc THIS_FILE [--apply]

# The nova_api database that holds the placement tables today
NOVA_API_DB="nova_api"
NOVA_API_USER="nova"
NOVA_API_PASS=""
NOVA_API_DB_HOST="localhost"

# Placement's own database (created empty, e.g. CREATE DATABASE placement;)
PLACEMENT_DB="placement"
PLACEMENT_USER="placement"
PLACEMENT_PASS=""
PLACEMENT_DB_HOST="localhost"

# Optional: copy only these tables (space separated); default all eleven
# MIGRATE_TABLES="allocations consumers inventories placement_aggregates projects resource_classes resource_provider_aggregates resource_provider_traits resource_providers traits users"
`;

/** Writes the template with mode 0600; refuses to overwrite an existing file. */
export function writeRcTemplate(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `Cannot write ${file}: ${code === 'EEXIST' ? 'it already exists (it is never overwritten)' : (err as Error).message}.`,
      'Choose another path, or edit the existing file.',
      err,
    );
  }
  try {
    writeSync(fd, TEMPLATE);
  } finally {
    closeSync(fd);
  }
}
