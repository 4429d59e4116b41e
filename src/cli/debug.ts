import { inspect } from 'node:util';
import { redact } from '../errors/redact.js';

/** The namespace of placement-upgrade's own DEBUG output, as the error hints name it. */
export const DEBUG_NAMESPACE = 'placement-upgrade';

/**
 * Whether DEBUG names `namespace`, read as the `debug` package (and so oclif
 * and knex) reads it: names separated by commas or spaces, `*` matching
 * anything, a leading `-` excluding.
 */
export function debugEnabled(namespace: string, setting = process.env['DEBUG'] ?? ''): boolean {
  const pattern = (name: string) =>
    new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  let enabled = false;
  for (const name of setting.split(/[\s,]+/).filter(Boolean)) {
    if (name.startsWith('-')) {
      if (pattern(name.slice(1)).test(namespace)) return false;
    } else if (pattern(name).test(namespace)) enabled = true;
  }
  return enabled;
}

/** Writes debug lines to stderr when DEBUG names the namespace; scrubbed like every other line. */
export function debugLog(namespace: string, text: string): void {
  if (!debugEnabled(namespace)) return;
  const stamp = new Date().toISOString();
  const lines = redact(text)
    .split('\n')
    .map((line) => `${stamp} ${namespace} ${line}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** An error and everything it was caused by, with stacks and the driver's fields (code, errno, sqlState …). */
function describeError(err: unknown): string {
  const out: string[] = [];
  const seen = new Set<unknown>();
  for (let e = err, depth = 0; e !== undefined && !seen.has(e) && depth < 10; depth++) {
    seen.add(e);
    if (depth > 0) out.push('caused by:');
    if (!(e instanceof Error)) {
      out.push(inspect(e, { depth: 2 }));
      break;
    }
    out.push(e.stack ?? `${e.name}: ${e.message}`);
    const fields = Object.fromEntries(
      Object.entries(e).filter(([k]) => !['stack', 'message', 'cause'].includes(k)),
    );
    if (Object.keys(fields).length > 0) {
      out.push(inspect(fields, { depth: 2, breakLength: 120, maxStringLength: 2000 }));
    }
    e = (e as { cause?: unknown }).cause;
  }
  return out.join('\n');
}

/**
 * What a bug report needs about an error, under DEBUG=placement-upgrade*:
 * the command line as oclif saw it (URL passwords masked), Node, and the whole
 * chain of causes with their stacks.
 */
export function debugError(err: unknown, exitCode: number): void {
  debugLog(
    `${DEBUG_NAMESPACE}:error`,
    [
      `exit ${exitCode}; node ${process.version} on ${process.platform}/${process.arch}`,
      `argv: ${inspect(process.argv.slice(2), { breakLength: Infinity })}`,
      describeError(err),
    ].join('\n'),
  );
}
