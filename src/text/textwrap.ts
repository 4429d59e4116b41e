/**
 * A faithful port of Python's `textwrap.wrap` with its default options
 * (tabs expanded, whitespace replaced, long words and hyphenated words
 * broken, surrounding whitespace dropped), because oslo.upgradecheck wraps
 * the details of each check with it and playbooks parse that layout.
 */

/** Python's textwrap._whitespace: the only characters it treats as spaces. */
const WHITESPACE = '\\t\\n\\x0b\\x0c\\r ';
const WS = `[${WHITESPACE}]`;
const NWS = `[^${WHITESPACE}]`;
// Python's \w on str patterns is Unicode-aware; these classes are its closest JS spelling.
const WORD = '[\\p{L}\\p{M}\\p{N}_]';
const WORD_PUNCT = `(?:${WORD}|[!"'&.,?])`;
const LETTER = '[\\p{L}\\p{M}\\p{Nl}\\p{No}_]';

/** textwrap.TextWrapper.wordsep_re, clause for clause. */
const WORDSEP = new RegExp(
  `(${WS}+` +
    `|(?<=${WORD_PUNCT})-{2,}(?=${WORD})` +
    `|${NWS}+?(?:` +
    `-(?:(?<=${LETTER}{2}-)|(?<=${LETTER}-${LETTER}-))(?=${LETTER}-?${LETTER})` +
    `|(?=${WS}|$)` +
    `|(?<=${WORD_PUNCT})(?=-{2,}${WORD})` +
    `))`,
  'u',
);

/** len() as Python counts: code points, not UTF-16 units. */
const len = (s: string): number => Array.from(s).length;

/** s[start:end] in code points. */
const slice = (s: string, start: number, end?: number): string =>
  Array.from(s).slice(start, end).join('');

/** str.expandtabs(8). */
function expandTabs(text: string, tabSize = 8): string {
  let out = '';
  let column = 0;
  for (const ch of text) {
    if (ch === '\t') {
      const spaces = tabSize - (column % tabSize);
      out += ' '.repeat(spaces);
      column += spaces;
    } else if (ch === '\n' || ch === '\r') {
      out += ch;
      column = 0;
    } else {
      out += ch;
      column++;
    }
  }
  return out;
}

function splitChunks(text: string): string[] {
  const munged = expandTabs(text).replace(new RegExp(`[${WHITESPACE}]`, 'g'), ' ');
  return munged.split(WORDSEP).filter((c) => c !== undefined && c !== '');
}

/** Python's str.strip() == '' for a chunk. */
const isBlank = (s: string): boolean => s.trim() === '';

/** Wraps `text` into lines of at most `width` code points, as textwrap.wrap does. */
export function wrap(
  text: string,
  width: number,
  options: { initialIndent?: string; subsequentIndent?: string } = {},
): string[] {
  const initialIndent = options.initialIndent ?? '';
  const subsequentIndent = options.subsequentIndent ?? '';
  if (width <= 0) throw new RangeError(`invalid width ${width} (must be > 0)`);
  const chunks = splitChunks(text).reverse();
  const lines: string[] = [];
  while (chunks.length > 0) {
    const curLine: string[] = [];
    let curLen = 0;
    const indent = lines.length > 0 ? subsequentIndent : initialIndent;
    const lineWidth = width - len(indent);
    if (isBlank(chunks[chunks.length - 1]!) && lines.length > 0) chunks.pop();
    while (chunks.length > 0) {
      const l = len(chunks[chunks.length - 1]!);
      if (curLen + l <= lineWidth) {
        curLine.push(chunks.pop()!);
        curLen += l;
      } else break;
    }
    if (chunks.length > 0 && len(chunks[chunks.length - 1]!) > lineWidth) {
      handleLongWord(chunks, curLine, curLen, lineWidth);
      curLen = curLine.reduce((n, c) => n + len(c), 0);
    }
    if (curLine.length > 0 && isBlank(curLine[curLine.length - 1]!)) {
      curLen -= len(curLine[curLine.length - 1]!);
      curLine.pop();
    }
    if (curLine.length > 0) lines.push(indent + curLine.join(''));
  }
  return lines;
}

function handleLongWord(
  reversedChunks: string[],
  curLine: string[],
  curLen: number,
  width: number,
): void {
  const spaceLeft = width < 1 ? 1 : width - curLen;
  const chunk = reversedChunks[reversedChunks.length - 1]!;
  let end = spaceLeft;
  if (len(chunk) > spaceLeft) {
    // Break after the last hyphen that fits, if there are non-hyphens before it.
    const head = slice(chunk, 0, spaceLeft);
    const hyphen = head.lastIndexOf('-') === -1 ? -1 : len(head.slice(0, head.lastIndexOf('-')));
    if (hyphen > 0 && /[^-]/.test(slice(chunk, 0, hyphen))) end = hyphen + 1;
  }
  curLine.push(slice(chunk, 0, end));
  reversedChunks[reversedChunks.length - 1] = slice(chunk, end);
}
