import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors/errors.js';

/**
 * The parsed content of one or more oslo.config files: section → option → value.
 *
 * Hand-written rather than the `ini` package because oslo's syntax differs in
 * ways that matter for connection strings: there are no inline comments (a
 * '#' or ';' inside a password is part of it), values continue on indented
 * lines, and both '=' and ':' separate keys from values.
 */
export type OsloConfig = Map<string, Map<string, string>>;

/**
 * Every value of every option, in file order: a repeated option is one
 * value per line (oslo.config's MultiStrOpt options, such as
 * [oslo_policy] policy_dirs, take them all; the others take the last).
 */
export type OsloConfigValues = Map<string, Map<string, string[]>>;

/** Parses oslo.config INI text; `name` only labels errors. */
export function parseOsloIni(text: string, name: string): OsloConfig {
  const config: OsloConfig = new Map();
  for (const [sectionName, options] of parseOsloIniValues(text, name)) {
    config.set(sectionName, new Map([...options].map(([k, v]) => [k, v[v.length - 1]!])));
  }
  return config;
}

/** Parses oslo.config INI text keeping every value of a repeated option. */
export function parseOsloIniValues(text: string, name: string): OsloConfigValues {
  const config: OsloConfigValues = new Map();
  let section: Map<string, string[]> | undefined;
  let lastKey: string | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') {
      lastKey = undefined;
      return;
    }
    if (/^\s*[#;]/.test(line)) return;
    if (/^\s/.test(line) && lastKey !== undefined && section) {
      // Continuation of the previous value (oslo joins with a newline).
      const values = section.get(lastKey)!;
      values[values.length - 1] = `${values[values.length - 1] ?? ''}\n${line.trim()}`;
      return;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      const sectionName = header[1]!.trim();
      section = config.get(sectionName) ?? new Map();
      config.set(sectionName, section);
      lastKey = undefined;
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s?(.*)$/.exec(line.trimStart());
    if (!kv || !section) {
      throw new ConfigError(
        `${name}, line ${i + 1}: ${section ? 'expected "option = value"' : 'an option before any [section]'}.`,
        'oslo.config files hold [sections] of "option = value" lines.',
      );
    }
    lastKey = kv[1]!.trim();
    let value = kv[2]!.trim();
    // oslo strips one pair of matching surrounding quotes.
    if (value.length >= 2 && /^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    const values = section.get(lastKey) ?? [];
    values.push(value);
    section.set(lastKey, values);
  });
  return config;
}

/**
 * Reads config files in order; a later file overrides an earlier one option
 * by option, as oslo.config does when --config-file is repeated.
 */
export function readOsloConfigFiles(files: readonly string[]): OsloConfig {
  const merged: OsloConfig = new Map();
  for (const [sectionName, options] of readOsloConfigFileValues(files)) {
    merged.set(sectionName, new Map([...options].map(([k, v]) => [k, v[v.length - 1]!])));
  }
  return merged;
}

/** Reads config files in order, keeping every value of every option (earlier files' first). */
export function readOsloConfigFileValues(files: readonly string[]): OsloConfigValues {
  const merged: OsloConfigValues = new Map();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(
        `Cannot read the configuration file ${file}: ${code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : (err as Error).message}.`,
        code === 'EACCES'
          ? 'Run as a user that can read it (deployment tools usually run this as the placement or nova user).'
          : 'Check the path given to --placement-config / --nova-config.',
        err,
      );
    }
    for (const [sectionName, options] of parseOsloIniValues(text, file)) {
      const target = merged.get(sectionName) ?? new Map<string, string[]>();
      for (const [k, v] of options) target.set(k, [...(target.get(k) ?? []), ...v]);
      merged.set(sectionName, target);
    }
  }
  return merged;
}

/** Looks an option up in its group (oslo does not fall back to [DEFAULT] for group options). */
export function getOption(config: OsloConfig, section: string, option: string): string | undefined {
  return config.get(section)?.get(option);
}
