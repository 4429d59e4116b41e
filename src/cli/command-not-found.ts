import type { Hook, Interfaces } from '@oclif/core';
import { UsageError } from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';
import { renderError, writeJsonDocument } from './render-error.js';

/**
 * oclif takes a word it cannot place after a command for part of the
 * command's name: `migrate <url>` becomes "command migrate:<url> not found",
 * exit 2, and the rest of argv (--json included) is dropped. Here a command
 * followed by stray words runs as that command, whose parser refuses them as
 * unexpected arguments: a usage error (exit 1), rendered, JSON included, as
 * every other. Anything else is an unknown command, a usage error too.
 */
const commandNotFound: Hook.CommandNotFound = async function (options) {
  // bin/run.js handed oclif process.argv, URL passwords masked.
  const argv = process.argv.slice(2);
  const end = argv.findIndex((a) => a.startsWith('-') || a.includes('='));
  const words = end === -1 ? argv : argv.slice(0, end);
  if (words.join(':') === options.id) {
    for (let n = words.length - 1; n > 0; n--) {
      const id = words.slice(0, n).join(':');
      if (options.config.findCommand(id)) return options.config.runCommand(id, argv.slice(n));
    }
  }
  const name = words.length > 0 ? words.join(' ') : options.id;
  const stop = argv.indexOf('--');
  const json = (stop === -1 ? argv : argv.slice(0, stop)).includes('--json');
  reportUnknownCommand(options.config, name, json);
  this.exit(ExitCode.USAGE);
};

/** Says that `name` is no command, and which are, as a usage error (exit 1, its caller's to end with). */
export function reportUnknownCommand(config: Interfaces.Config, name: string, json: boolean): void {
  const commands = config.commandIDs
    .map((id) => id.replaceAll(':', ' '))
    .sort()
    .join(', ');
  renderError(
    new UsageError(
      `"${name}" is not a ${config.bin} command.`,
      `The commands are ${commands}; "${config.bin} COMMAND --help" shows a command's flags.`,
    ),
    ExitCode.USAGE,
    json ? writeJsonDocument : undefined,
  );
}

export default commandNotFound;
