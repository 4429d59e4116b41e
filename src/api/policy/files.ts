/**
 * Finding and reading the policy files as oslo.policy does: the policy
 * file and each policy directory are looked up with oslo.config's
 * find_file (an absolute path as is; a relative one in the config
 * directories, first hit wins); a directory's files are read in name
 * order, skipping hidden ones and subdirectories. A file is JSON if it
 * parses as JSON, else YAML read as PyYAML's safe_load reads it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import type { PyValue } from './python.js';

/** A policy file oslo.policy could not load (bad YAML, not a mapping, unreadable). */
export class PolicyFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'PolicyFileError';
  }
}

/** oslo.config's find_file: the first directory holding `name` (file or directory); an absolute name is itself. */
export function findConfigPath(name: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const path = resolve(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

// PyYAML (YAML 1.1) reads yes/no/on/off as booleans, which js-yaml (YAML 1.2) leaves as strings.
const PY_YAML_BOOL = new yaml.Type('tag:yaml.org,2002:pybool', {
  kind: 'scalar',
  resolve: (data: unknown) =>
    typeof data === 'string' && /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/.test(data),
  construct: (data: string) => /^(?:yes|on)$/i.test(data),
});
const PY_YAML_SCHEMA = yaml.DEFAULT_SCHEMA.extend({ implicit: [PY_YAML_BOOL] });

/** A parsed value as Python would hold it; YAML-only kinds (dates, binary) have no place in a policy. */
function toPy(value: unknown, path: string): PyValue {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
    return value as PyValue;
  }
  if (Array.isArray(value)) return value.map((v) => toPy(v, path));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toPy(v, path)]),
    );
  }
  throw new PolicyFileError(
    path,
    `${path} holds a ${value instanceof Date ? 'date' : typeof value} where a rule belongs.`,
  );
}

export interface ParsedPolicyFile {
  /** Rule name → rule value, in file order. */
  rules: [string, PyValue][];
  /** JSON-formatted (oslo.policy warns that JSON policy files are deprecated). */
  json: boolean;
}

/** oslo.policy's parse_file_contents: JSON first, else YAML; empty means no rules. */
export function parsePolicyText(text: string, path: string): ParsedPolicyFile {
  let parsed: unknown;
  let json = true;
  try {
    parsed = JSON.parse(text);
  } catch {
    json = false;
    try {
      // json: a repeated key takes the last value, as PyYAML does, instead of failing.
      parsed = yaml.load(text, { schema: PY_YAML_SCHEMA, json: true, filename: path });
    } catch (err) {
      // js-yaml's message carries a multi-line excerpt: say where in one line instead.
      const reason =
        err instanceof yaml.YAMLException
          ? `${err.reason}${err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : ''}`
          : String(err);
      throw new PolicyFileError(path, `${path} is neither JSON nor valid YAML: ${reason}`);
    }
  }
  const value = toPy(parsed, path);
  const empty =
    value === null ||
    value === false ||
    value === 0 ||
    value === '' ||
    (Array.isArray(value) && value.length === 0);
  if (empty) return { rules: [], json };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new PolicyFileError(
      path,
      `${path} holds a ${Array.isArray(value) ? 'list' : typeof value}, not a mapping of policy names to rules.`,
    );
  }
  return { rules: Object.entries(value), json };
}

export interface PolicySource {
  path: string;
  text: string;
}

/** The files oslo.policy would load now, in order, and a stamp that changes when any of them does. */
export interface PolicySources {
  /** The policy file, when found. */
  file?: string;
  /** The policy directories found. */
  dirs: string[];
  /** Every file to load, the policy file first, then each directory's files in name order. */
  files: string[];
  /** Paths, sizes and modification times: equal stamps mean nothing to reload. */
  stamp: string;
}

/** Where the policy file and directories are today. */
export function locatePolicySources(
  policyFile: string,
  policyDirs: readonly string[],
  searchDirs: readonly string[],
): PolicySources {
  const file = findConfigPath(policyFile, searchDirs);
  const dirs: string[] = [];
  const files: string[] = file ? [file] : [];
  for (const name of policyDirs) {
    const dir = findConfigPath(name, searchDirs);
    if (!dir) continue;
    if (!statSync(dir).isDirectory()) {
      throw new PolicyFileError(dir, `${dir} ([oslo_policy] policy_dirs) is not a directory.`);
    }
    dirs.push(dir);
    const names = readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .filter((n) => {
        try {
          return !statSync(join(dir, n)).isDirectory();
        } catch {
          return true; // a dangling link: reading it says what is wrong
        }
      })
      .sort();
    files.push(...names.map((n) => join(dir, n)));
  }
  const stamp = [...files, ...dirs]
    .map((p) => {
      try {
        const s = statSync(p);
        return `${p}\0${s.size}\0${s.mtimeMs}`;
      } catch {
        return `${p}\0gone`;
      }
    })
    .join('\n');
  return { file, dirs, files, stamp };
}

/** Reads one policy file (unreadable: a PolicyFileError saying why). */
export function readPolicyFile(path: string): ParsedPolicyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PolicyFileError(
      path,
      `Cannot read the policy file ${path}: ${code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}.`,
    );
  }
  return parsePolicyText(text, path);
}
