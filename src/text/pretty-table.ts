/**
 * The ASCII tables that Python's prettytable (3.x) prints with its default
 * style, because placement-manage and oslo.upgradecheck print theirs with
 * it and deployment tools parse them: `+---+` rules, one space of padding,
 * multi-line cells, centred or left-aligned columns.
 */

export interface PrettyTableOptions {
  /** 'c' centres (prettytable's default), 'l' left-aligns every column. */
  align?: 'c' | 'l';
  /** 'frame': rules around the header and the table; 'all': also after every row. */
  hrules?: 'frame' | 'all';
}

/** Display width of a line, as prettytable measures it (ANSI colour codes count for nothing). */
function blockWidth(line: string): number {
  // eslint-disable-next-line no-control-regex
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
  let width = 0;
  for (const ch of plain) {
    const cp = ch.codePointAt(0)!;
    if (/\p{Mn}|\p{Me}|\p{Cf}/u.test(ch)) continue;
    // East Asian wide and full-width characters take two columns, as wcwidth says.
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f680 && cp <= 0x1f6ff) ||
    (cp >= 0x1fa70 && cp <= 0x1faff) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** prettytable's _justify: for odd padding, odd-width text gets the extra space on the right. */
function justify(text: string, width: number, align: 'c' | 'l'): string {
  const w = blockWidth(text);
  const excess = width - w;
  if (align === 'l') return text + ' '.repeat(excess);
  const half = Math.floor(excess / 2);
  if (excess % 2 === 0) return ' '.repeat(half) + text + ' '.repeat(half);
  return w % 2 === 1
    ? ' '.repeat(half) + text + ' '.repeat(half + 1)
    : ' '.repeat(half + 1) + text + ' '.repeat(half);
}

/** Renders a table exactly as `print(prettytable.PrettyTable(...))` would. */
export function prettyTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  options: PrettyTableOptions = {},
): string {
  const align = options.align ?? 'c';
  const cells = rows.map((row) => row.map((cell) => String(cell).split('\n')));
  const widths = header.map((h, i) =>
    Math.max(
      blockWidth(h),
      ...cells.map((row) => Math.max(0, ...(row[i] ?? ['']).map((line) => blockWidth(line)))),
    ),
  );
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (parts: string[]) =>
    `|${parts.map((p, i) => ` ${justify(p, widths[i]!, align)} `).join('|')}|`;

  const out = [rule, line([...header]), rule];
  cells.forEach((row, r) => {
    const height = Math.max(1, ...row.map((c) => c.length));
    for (let k = 0; k < height; k++) out.push(line(header.map((_, i) => row[i]?.[k] ?? '')));
    if (options.hrules === 'all' || r === cells.length - 1) out.push(rule);
  });
  // An empty table still closes with a rule (prettytable's print_empty).
  if (cells.length === 0) out.push(rule);
  return out.join('\n');
}
