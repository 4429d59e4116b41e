/**
 * Python's repr() and pprint.pformat() for the small values that appear in
 * placement's query-validation errors (jsonschema prints the schema and the
 * instance into the error detail). Enough to make those details identical.
 */

/** Python's repr() of a str, enough for error messages. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0x80 && code < 0xa0) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** Python's int(s) as its decimal text (every digit kept), or null when int() would refuse it. */
export function pyIntText(s: string): string | null {
  const t = s.trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) return null;
  return BigInt(t.replace(/_/g, '')).toString();
}

/**
 * Python's int(s): surrounding whitespace, a sign and digit-separating
 * underscores are fine. Beyond 2**53 the number is approximate; pyIntText
 * has the exact value.
 */
export function pyIntOrNull(s: string): number | null {
  const text = pyIntText(s);
  return text === null ? null : Number(text);
}

/** A value as Python sees it: dicts, lists, str, int, bool, None. */
export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

function isDict(v: PyValue): v is { [key: string]: PyValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** repr() with dict keys sorted, as pprint's _safe_repr does. */
export function safeRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return pyRepr(v);
  if (Array.isArray(v)) return `[${v.map(safeRepr).join(', ')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${pyRepr(k)}: ${safeRepr(v[k]!)}`).join(', ')}}`;
}

class Printer {
  out = '';
  constructor(private readonly width: number) {}

  format(v: PyValue, indent: number, allowance: number, level: number): void {
    const rep = safeRepr(v);
    if (rep.length > this.width - indent - allowance) {
      if (isDict(v) && Object.keys(v).length > 0) return this.dict(v, indent, allowance, level + 1);
      if (Array.isArray(v) && v.length > 0) return this.list(v, indent, allowance, level + 1);
      if (typeof v === 'string' && v.length > 0) return this.str(v, indent, allowance, level + 1);
    }
    this.out += rep;
  }

  private dict(v: { [key: string]: PyValue }, indent: number, allowance: number, level: number) {
    this.out += '{';
    const keys = Object.keys(v).sort();
    const inner = indent + 1;
    keys.forEach((key, i) => {
      const last = i === keys.length - 1;
      const rep = pyRepr(key);
      this.out += `${rep}: `;
      this.format(v[key]!, inner + rep.length + 2, last ? allowance + 1 : 1, level);
      if (!last) this.out += `,\n${' '.repeat(inner)}`;
    });
    this.out += '}';
  }

  private list(v: PyValue[], indent: number, allowance: number, level: number) {
    this.out += '[';
    const inner = indent + 1;
    v.forEach((item, i) => {
      const last = i === v.length - 1;
      if (i > 0) this.out += `,\n${' '.repeat(inner)}`;
      this.format(item, inner, last ? allowance + 1 : 1, level);
    });
    this.out += ']';
  }

  /** pprint's _pprint_str: long strings become adjacent literals split at whitespace. */
  private str(v: string, indent: number, allowance: number, level: number) {
    const chunks: string[] = [];
    const lines = v.split(/(?<=\n)/);
    let ind = indent;
    let allow = allowance;
    if (level === 1) {
      ind += 1;
      allow += 1;
    }
    const maxWidth = this.width - ind;
    let maxWidth1 = maxWidth;
    let rep = '';
    lines.forEach((line, i) => {
      rep = pyRepr(line);
      if (i === lines.length - 1) maxWidth1 -= allow;
      if (rep.length <= maxWidth1) {
        chunks.push(rep);
        return;
      }
      const parts = line.match(/\S*\s*/g)?.filter((p) => p !== '') ?? [];
      let maxWidth2 = maxWidth;
      let current = '';
      parts.forEach((part, j) => {
        const candidate = current + part;
        if (j === parts.length - 1 && i === lines.length - 1) maxWidth2 -= allow;
        if (pyRepr(candidate).length > maxWidth2) {
          if (current) chunks.push(pyRepr(current));
          current = part;
        } else current = candidate;
      });
      if (current) chunks.push(pyRepr(current));
    });
    if (chunks.length === 1) {
      this.out += rep;
      return;
    }
    if (level === 1) this.out += '(';
    this.out += chunks.join(`\n${' '.repeat(ind)}`);
    if (level === 1) this.out += ')';
  }
}

/** pprint.pformat(value, width=72). */
export function pformat(v: PyValue, width = 72): string {
  const p = new Printer(width);
  p.format(v, 0, 0, 0);
  return p.out;
}
