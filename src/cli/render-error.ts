import chalk from 'chalk';
import type { PlacementUpgradeError } from '../errors/errors.js';
import { redact, redactDeep } from '../errors/redact.js';
import { debugError } from './debug.js';

/** The document an error is under --json: `{"error": …}`, the same for every command. */
export function errorDocument(err: PlacementUpgradeError, exitCode: number) {
  return {
    error: {
      code: err.code,
      exitCode,
      message: err.message,
      hint: err.hint ?? null,
      ...(err.details ? { details: err.details } : {}),
    },
  };
}

/** Writes a JSON document on stdout as --json does, secrets scrubbed. */
export function writeJsonDocument(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(redactDeep(doc), null, 2)}\n`);
}

/**
 * Writes an error the one way the CLI ends with one: given `writeJson`
 * (--json), its document on stdout and nothing else there; otherwise
 * "Error:" and "Hint:" on stderr (with the frames of a bug's stack). Secrets
 * are scrubbed either way, and DEBUG=placement-upgrade* adds the whole cause
 * chain on stderr.
 */
export function renderError(
  err: PlacementUpgradeError,
  exitCode: number,
  writeJson?: (doc: unknown) => void,
): void {
  debugError(err, exitCode);
  if (writeJson) {
    writeJson(errorDocument(err, exitCode));
    return;
  }
  const useColor = Boolean(process.stderr.isTTY) && chalk.level > 0;
  const label = useColor ? chalk.red.bold('Error:') : 'Error:';
  process.stderr.write(`${label} ${redact(err.message)}\n`);
  if (err.hint)
    process.stderr.write(`${useColor ? chalk.bold('Hint:') : 'Hint:'} ${redact(err.hint)}\n`);
  if (err.exitCode === 70 && err.cause instanceof Error && err.cause.stack) {
    // The frames only: the stack's first line repeats the (possibly long) message.
    const frames = err.cause.stack.split('\n').filter((l) => /^\s+at /.test(l));
    process.stderr.write(`${redact(frames.join('\n'))}\n`);
  }
}
