import { CommandHelp, Errors, Help } from '@oclif/core';
import { ExitCode } from '../errors/exit-codes.js';
import { reportUnknownCommand } from './command-not-found.js';
import { wrap } from '../text/textwrap.js';

/**
 * Fills a description to `width` columns. Descriptions are written in the
 * source with line breaks where the source is read; oclif keeps those breaks
 * and wraps again at the terminal's width, breaking sentences mid-line
 * ("the URL environment variable; the⏎[placement_database]…"). Here lines of
 * a paragraph are joined and filled again; a blank line ends a paragraph; a
 * line that starts with spaces is an item (exit codes, a list) kept on its own
 * line, its continuation lines (more indented, or not indented) hanging under
 * its text.
 */
export function fillDescription(text: string, width: number): string {
  const blocks: { indent: string; hang: string; words: string[] }[] = [];
  const out: string[] = [];
  let current: { indent: string; hang: string; words: string[] } | undefined;
  const flush = () => {
    if (current) blocks.push(current);
    current = undefined;
  };
  const render = () => {
    for (const b of blocks.splice(0)) {
      out.push(
        ...wrap(b.words.join(' '), width, { initialIndent: b.indent, subsequentIndent: b.hang }),
      );
    }
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      render();
      out.push('');
      continue;
    }
    const indent = /^\s*/.exec(line)![0];
    const body = line.slice(indent.length).trimEnd();
    if (indent === '') {
      // Prose: joins the paragraph it continues, unless that is an item.
      if (current && current.indent === '') current.words.push(body);
      else {
        flush();
        current = { indent: '', hang: '', words: [body] };
      }
    } else if (current && current.indent !== '' && indent.length > current.indent.length) {
      // A continuation line of the item above it.
      current.words.push(body);
    } else {
      flush();
      // The item's text hangs under its first word ("130  interrupted …", "- a check").
      const marker = /^(\S+)( {2,}|(?<=^[-*•]) )/.exec(body);
      const hang = indent + ' '.repeat(marker ? marker[0].length : 0);
      current = {
        indent: indent + (marker ? marker[0] : ''),
        hang,
        words: [body.slice(marker ? marker[0].length : 0)],
      };
    }
  }
  flush();
  render();
  while (out.length > 0 && out.at(-1) === '') out.pop();
  return out.join('\n');
}

/** Fills each command's description to the terminal's width instead of rewrapping its source lines. */
class FilledCommandHelp extends CommandHelp {
  protected override description(): string | undefined {
    const cmd = this.command;
    if (!cmd.description) return undefined;
    const text = cmd.summary ? `${cmd.summary}\n\n${cmd.description}` : cmd.description;
    return fillDescription(this.render(text), this.opts.maxWidth - this.indentSpacing);
  }
}

/** placement-upgrade's --help: oclif's, with descriptions filled as paragraphs. */
export default class PlacementUpgradeHelp extends Help {
  protected override CommandHelpClass = FilledCommandHelp;

  /**
   * "placement-upgrade frob --help" is an unknown command, a usage error
   * (exit 1) as without --help, not oclif's "Command frob not found" (exit 2,
   * which playbooks read as "configuration missing").
   */
  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv);
    } catch (err) {
      const unknown = /^Command (.+) not found\.$/.exec((err as Error).message ?? '');
      if (!unknown || err instanceof Errors.ExitError) throw err;
      const name = unknown[1]!.replaceAll(':', ' ');
      reportUnknownCommand(this.config, name, argv.includes('--json'));
      Errors.exit(ExitCode.USAGE);
    }
  }
}
