/**
 * Python's repr() and pprint.pformat() for the values that appear in
 * placement's error details: jsonschema prints the failing schema and
 * instance into them (pformat, width 72, dict keys sorted), and its
 * messages quote values with repr(). Byte-for-byte, because those details
 * are what clients see.
 */
import { PyFloat, pyFloatRepr, type PyJson } from './py-json.js';

/**
 * Characters repr() escapes beyond ASCII: Unicode's "Other" and
 * "Separator" categories (str.isprintable()). Node's Unicode tables may be
 * a version newer than Python's, so characters assigned since print as
 * themselves here where Python escapes them.
 */
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/** Code points, as Python's len() counts a str. */
export function pyLen(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Python's ordering of str: by code point (JavaScript's `<` compares UTF-16 units). */
export function comparePyStr(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function hexEscape(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** Python's repr() of a str. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += hexEscape(code);
    else if (code < 0x7f) out += ch;
    else if (NON_PRINTABLE.test(ch)) out += hexEscape(code);
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

/**
 * A value as Python sees it: what json.loads returns (PyJson), and the
 * same built from plain arrays and objects (a number that is an integer is
 * an int, any other a float).
 */
export type PyValue =
  PyJson | readonly PyValue[] | ReadonlyMap<string, PyValue> | { readonly [key: string]: PyValue };

type PyDictLike = ReadonlyMap<string, PyValue> | { readonly [key: string]: PyValue };

function isDict(v: PyValue): v is PyDictLike {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyFloat);
}

function itemsOf(v: PyDictLike): [string, PyValue][] {
  return v instanceof Map
    ? [...(v as ReadonlyMap<string, PyValue>)]
    : Object.entries(v as { readonly [key: string]: PyValue });
}

/** repr() of a number: an int for integers (exactly, however large), a float otherwise. */
function numberRepr(n: number): string {
  if (!Number.isInteger(n)) return pyFloatRepr(n);
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

function reprWith(v: PyValue, sortKeys: boolean): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return numberRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return pyRepr(v);
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (Array.isArray(v)) return `[${v.map((item: PyValue) => reprWith(item, sortKeys)).join(', ')}]`;
  const items = itemsOf(v as PyDictLike);
  if (sortKeys) items.sort(([a], [b]) => comparePyStr(a, b));
  return `{${items.map(([k, item]) => `${pyRepr(k)}: ${reprWith(item, sortKeys)}`).join(', ')}}`;
}

/** Python's repr(): dicts in insertion order, as jsonschema's messages quote values. */
export function pyValueRepr(v: PyValue): string {
  return reprWith(v, false);
}

/** repr() with dict keys sorted, as pprint's _safe_repr does. */
export function safeRepr(v: PyValue): string {
  return reprWith(v, true);
}

/** str.splitlines(keepends=True) cuts after each of these (and after \r\n as one). */
// eslint-disable-next-line no-control-regex -- Python's line ends include these controls.
const LINE_END = /(?<=[\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]|\r(?!\n))/u;
/** Python's Unicode whitespace (`\s` and str.isspace()), as the inside of a regex character class. */
export const PY_WHITESPACE =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** pprint's re.findall(r'\S*\s*'), with Python's whitespace. */
const WORD_AND_SPACE = new RegExp(`[^${PY_WHITESPACE}]*[${PY_WHITESPACE}]*`, 'gu');

/** pprint.PrettyPrinter's _format and its dict, list and str printers. */
class Printer {
  out = '';
  constructor(private readonly width: number) {}

  format(v: PyValue, indent: number, allowance: number, level: number): void {
    const rep = safeRepr(v);
    if (pyLen(rep) > this.width - indent - allowance) {
      if (isDict(v)) return this.dict(v, indent, allowance, level + 1);
      if (Array.isArray(v)) return this.list(v, indent, allowance, level + 1);
      if (typeof v === 'string') return this.str(v, indent, allowance, level + 1);
    }
    this.out += rep;
  }

  private dict(v: PyDictLike, indent: number, allowance: number, level: number) {
    this.out += '{';
    const items = itemsOf(v).sort(([a], [b]) => comparePyStr(a, b));
    const inner = indent + 1;
    items.forEach(([key, value], i) => {
      const last = i === items.length - 1;
      const rep = pyRepr(key);
      this.out += `${rep}: `;
      this.format(value, inner + pyLen(rep) + 2, last ? allowance + 1 : 1, level);
      if (!last) this.out += `,\n${' '.repeat(inner)}`;
    });
    this.out += '}';
  }

  private list(v: readonly PyValue[], indent: number, allowance: number, level: number) {
    this.out += '[';
    const inner = indent + 1;
    v.forEach((item, i) => {
      const last = i === v.length - 1;
      if (i > 0) this.out += `,\n${' '.repeat(inner)}`;
      this.format(item, inner, last ? allowance + 1 : 1, level);
    });
    this.out += ']';
  }

  /** pprint's _pprint_str: long strings become adjacent literals split after whitespace. */
  private str(v: string, indent: number, allowance: number, level: number) {
    if (v === '') {
      this.out += "''";
      return;
    }
    const chunks: string[] = [];
    const lines = v.split(LINE_END);
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
      if (pyLen(rep) <= maxWidth1) {
        chunks.push(rep);
        return;
      }
      const parts = line.match(WORD_AND_SPACE)?.filter((p) => p !== '') ?? [];
      let maxWidth2 = maxWidth;
      let current = '';
      parts.forEach((part, j) => {
        const candidate = current + part;
        if (j === parts.length - 1 && i === lines.length - 1) maxWidth2 -= allow;
        if (pyLen(pyRepr(candidate)) > maxWidth2) {
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
