/**
 * JSON as placement reads and writes it: Python's `json` module behind
 * oslo.serialization's jsonutils. Request bodies are decoded as strict UTF-8
 * and parsed by CPython's C scanner, whose error texts end up verbatim in
 * placement's 400s ("Malformed JSON: Expecting value: line 1 column 1 (char
 * 0)"); response bodies are `json.dumps` with its defaults (`", "` and
 * `": "`, ASCII only). Values keep the distinctions Python keeps and
 * JavaScript loses: int versus float (`1` is not `1.0` on the wire, and
 * jsonschema prints them differently), ints beyond 2**53, and a dict's key
 * order when keys look like array indices.
 */

/**
 * A Python float. JSON numbers with a fraction or an exponent, NaN and
 * ±Infinity parse to one; plain JavaScript numbers stand for Python ints.
 */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * A Python dict. A Map, not an object: an object would move keys such as
 * "10" or "2" ahead of the others (Python keeps insertion order) and treat
 * "__proto__" specially.
 */
export type PyDict = Map<string, PyJson>;

/**
 * What `json.loads` returns: None, bool, int (a number when it is a safe
 * integer, a bigint beyond), float (PyFloat), str, list, dict.
 */
export type PyJson = null | boolean | number | bigint | string | PyFloat | PyJson[] | PyDict;

/** The same values with floats as numbers and dicts as objects, for handlers. */
export type PlainJson =
  null | boolean | number | string | PlainJson[] | { [key: string]: PlainJson };

/** A ValueError, which placement's extract_json turns into "Malformed JSON: <message>". */
export class PyValueError extends Error {
  override name = 'PyValueError';
}

/** json.JSONDecodeError: `message` is its str(), e.g. "Expecting value: line 1 column 1 (char 0)". */
export class PyJsonDecodeError extends PyValueError {
  override name = 'PyJsonDecodeError';
  constructor(
    /** The message without the position, e.g. "Expecting value". */
    readonly msg: string,
    /** Position in code points, as Python counts characters. */
    readonly pos: number,
    readonly lineno: number,
    readonly colno: number,
  ) {
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`);
  }
}

/**
 * RecursionError: nesting deeper than Python's recursion limit allows. It is
 * no ValueError, so placement does not answer 400 for it but lets it
 * escape (a 500).
 */
export class PyRecursionError extends Error {
  override name = 'PyRecursionError';
}

/**
 * How deep arrays and objects may nest before Python gives up. CPython's
 * limit is 1000 frames, shared with the Python frames already on the stack
 * (a bare `json.loads` manages 995 levels; inside placement's WSGI stack it
 * is some dozens fewer), so this is an approximation by nature.
 */
export const MAX_JSON_DEPTH = 960;

/** Python's default limit on the digits of an int read from text (sys.get_int_max_str_digits()). */
const INT_MAX_STR_DIGITS = 4300;

/** Code points in `s[from, to)`: a surrogate pair is one character to Python, a lone surrogate one too. */
function codePointCount(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const prev = i > from ? s.charCodeAt(i - 1) : 0;
    if (c >= 0xdc00 && c <= 0xdfff && prev >= 0xd800 && prev <= 0xdbff) continue;
    n++;
  }
  return n;
}

/** JSONDecodeError(msg, doc, pos) with `pos` a UTF-16 index into `doc`. */
function decodeError(msg: string, doc: string, pos: number): PyJsonDecodeError {
  let lineno = 1;
  let lastNewline = -1;
  for (let i = doc.indexOf('\n'); i !== -1 && i < pos; i = doc.indexOf('\n', i + 1)) {
    lineno++;
    lastNewline = i;
  }
  return new PyJsonDecodeError(
    msg,
    codePointCount(doc, 0, pos),
    lineno,
    codePointCount(doc, lastNewline + 1, pos) + 1,
  );
}

const isWhitespace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The value of a hex digit, or -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** Python's int(text) for the digits the scanner matched, refusing what Python refuses. */
function pyInt(text: string): number | bigint {
  const digits = text.startsWith('-') ? text.length - 1 : text.length;
  if (digits > INT_MAX_STR_DIGITS) {
    throw new PyValueError(
      `Exceeds the limit (${INT_MAX_STR_DIGITS} digits) for integer string conversion: value has ${digits} digits; use sys.set_int_max_str_digits() to increase the limit`,
    );
  }
  if (digits <= 15) {
    const n = Number(text);
    // "-0" is the int 0: Python ints have no negative zero.
    return n === 0 ? 0 : n;
  }
  const big = BigInt(text);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(big)
    : big;
}

/**
 * CPython's C scanner (Modules/_json.c), position for position: the same
 * grammar (NaN and Infinity included, only ASCII whitespace), the same
 * error at the same character.
 */
class Scanner {
  private depth = 0;
  /** Where the last scanned value ended. */
  private end = 0;

  constructor(private readonly s: string) {}

  private fail(msg: string, pos: number): never {
    throw decodeError(msg, this.s, pos);
  }

  private skipWhitespace(idx: number): number {
    while (idx < this.s.length && isWhitespace(this.s.charCodeAt(idx))) idx++;
    return idx;
  }

  /** json.loads on a str. */
  document(): PyJson {
    if (this.s.charCodeAt(0) === 0xfeff)
      this.fail('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0);
    const value = this.value(this.skipWhitespace(0));
    const end = this.skipWhitespace(this.end);
    if (end !== this.s.length) this.fail('Extra data', end);
    return value;
  }

  private startsWithAt(word: string, idx: number): boolean {
    return this.s.startsWith(word, idx);
  }

  /** scan_once: one value at `idx`; "Expecting value" there when none starts. */
  private value(idx: number): PyJson {
    const s = this.s;
    if (idx >= s.length) this.fail('Expecting value', idx);
    switch (s[idx]) {
      case '"':
        return this.string(idx + 1);
      case '{':
        return this.nested('object', () => this.object(idx + 1));
      case '[':
        return this.nested('array', () => this.array(idx + 1));
      case 'n':
        if (this.startsWithAt('null', idx)) return this.constant(null, idx + 4);
        break;
      case 't':
        if (this.startsWithAt('true', idx)) return this.constant(true, idx + 4);
        break;
      case 'f':
        if (this.startsWithAt('false', idx)) return this.constant(false, idx + 5);
        break;
      case 'N':
        if (this.startsWithAt('NaN', idx)) return this.constant(new PyFloat(NaN), idx + 3);
        break;
      case 'I':
        if (this.startsWithAt('Infinity', idx))
          return this.constant(new PyFloat(Infinity), idx + 8);
        break;
      case '-':
        if (this.startsWithAt('-Infinity', idx)) {
          return this.constant(new PyFloat(-Infinity), idx + 9);
        }
        break;
    }
    return this.number(idx);
  }

  private constant(value: PyJson, end: number): PyJson {
    this.end = end;
    return value;
  }

  /** Python's recursion guard around each array and object. */
  private nested(kind: 'array' | 'object', parse: () => PyJson): PyJson {
    if (++this.depth > MAX_JSON_DEPTH) {
      throw new PyRecursionError(
        `maximum recursion depth exceeded while decoding a JSON ${kind} from a unicode string`,
      );
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  /** _match_number_unicode: an int unless a fraction or an exponent follows. */
  private number(start: number): PyJson {
    const s = this.s;
    const last = s.length - 1;
    let idx = start;
    if (s.charCodeAt(idx) === 0x2d /* - */) {
      idx++;
      if (idx > last) this.fail('Expecting value', start);
    }
    const first = s.charCodeAt(idx);
    if (first >= 0x31 && first <= 0x39) {
      idx++;
      while (idx <= last && isDigit(s.charCodeAt(idx))) idx++;
    } else if (first === 0x30) {
      idx++;
    } else {
      this.fail('Expecting value', start);
    }
    let isFloat = false;
    if (idx < last && s[idx] === '.' && isDigit(s.charCodeAt(idx + 1))) {
      isFloat = true;
      idx += 2;
      while (idx <= last && isDigit(s.charCodeAt(idx))) idx++;
    }
    if (idx < last && (s[idx] === 'e' || s[idx] === 'E')) {
      const eStart = idx;
      idx++;
      if (idx < last && (s[idx] === '-' || s[idx] === '+')) idx++;
      while (idx <= last && isDigit(s.charCodeAt(idx))) idx++;
      if (isDigit(s.charCodeAt(idx - 1))) isFloat = true;
      else idx = eStart;
    }
    const text = s.slice(start, idx);
    this.end = idx;
    return isFloat ? new PyFloat(Number(text)) : pyInt(text);
  }

  /** scanstring_unicode: the string whose opening quote is at `begin - 1`. */
  private string(begin: number): string {
    const s = this.s;
    const len = s.length;
    const quote = begin - 1;
    let out = '';
    let end = begin;
    for (;;) {
      let next = end;
      let c = 0;
      for (; next < len; next++) {
        c = s.charCodeAt(next);
        if (c === 0x22 || c === 0x5c) break;
        if (c <= 0x1f) this.fail('Invalid control character at', next);
      }
      if (next >= len) this.fail('Unterminated string starting at', quote);
      out += s.slice(end, next);
      if (c === 0x22) {
        this.end = next + 1;
        return out;
      }
      next++; // past the backslash
      if (next === len) this.fail('Unterminated string starting at', quote);
      const esc = s[next]!;
      if (esc !== 'u') {
        const simple = SIMPLE_ESCAPES[esc];
        if (simple === undefined) this.fail('Invalid \\escape', next - 1);
        out += simple;
        end = next + 1;
        continue;
      }
      next++;
      end = next + 4;
      if (end >= len) this.fail('Invalid \\uXXXX escape', next - 1);
      const unit = this.hex4(next, end);
      if (unit >= 0xd800 && unit <= 0xdbff && end + 6 < len && s.startsWith('\\u', end)) {
        const low = this.hex4(end + 2, end + 6);
        if (low >= 0xdc00 && low <= 0xdfff) {
          out += String.fromCharCode(unit, low);
          end += 6;
          continue;
        }
      }
      out += String.fromCharCode(unit);
    }
  }

  /** Four hex digits at s[from, to); "Invalid \uXXXX escape" at the `u` when one is not. */
  private hex4(from: number, to: number): number {
    let value = 0;
    for (let i = from; i < to; i++) {
      const digit = hexValue(this.s.charCodeAt(i));
      if (digit < 0) this.fail('Invalid \\uXXXX escape', to - 5);
      value = (value << 4) | digit;
    }
    return value;
  }

  /** _parse_object_unicode: `idx` is just past the `{`. Duplicate keys: the last value, first position. */
  private object(idx: number): PyDict {
    const s = this.s;
    const dict: PyDict = new Map();
    idx = this.skipWhitespace(idx);
    if (s[idx] === '}') {
      this.end = idx + 1;
      return dict;
    }
    for (;;) {
      if (s[idx] !== '"') this.fail('Expecting property name enclosed in double quotes', idx);
      const key = this.string(idx + 1);
      idx = this.skipWhitespace(this.end);
      if (s[idx] !== ':') this.fail("Expecting ':' delimiter", idx);
      const value = this.value(this.skipWhitespace(idx + 1));
      dict.set(key, value);
      idx = this.skipWhitespace(this.end);
      if (s[idx] === '}') break;
      if (s[idx] !== ',') this.fail("Expecting ',' delimiter", idx);
      idx = this.skipWhitespace(idx + 1);
    }
    this.end = idx + 1;
    return dict;
  }

  /** _parse_array_unicode: `idx` is just past the `[`. */
  private array(idx: number): PyJson[] {
    const s = this.s;
    const list: PyJson[] = [];
    idx = this.skipWhitespace(idx);
    if (s[idx] === ']') {
      this.end = idx + 1;
      return list;
    }
    for (;;) {
      list.push(this.value(idx));
      idx = this.skipWhitespace(this.end);
      if (s[idx] === ']') break;
      if (s[idx] !== ',') this.fail("Expecting ',' delimiter", idx);
      idx = this.skipWhitespace(idx + 1);
    }
    this.end = idx + 1;
    return list;
  }
}

const SIMPLE_ESCAPES: Record<string, string | undefined> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * `json.loads(text)`. Throws PyJsonDecodeError (message exactly Python's
 * str(JSONDecodeError)), PyValueError for an int of more than 4300 digits,
 * PyRecursionError for nesting Python cannot follow.
 */
export function parsePyJson(text: string): PyJson {
  return new Scanner(text).document();
}

/** Where a UTF-8 sequence starting with `lead` may have its second byte (the rest are 80–BF). */
function secondByteRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

/** The text of the UnicodeDecodeError Python's strict UTF-8 decoder raises for the first bad sequence. */
function utf8ErrorText(bytes: ArrayLike<number>): string | null {
  const fail = (start: number, end: number, reason: string) =>
    end - start === 1
      ? `'utf-8' codec can't decode byte 0x${bytes[start]!.toString(16).padStart(2, '0')} in position ${start}: ${reason}`
      : `'utf-8' codec can't decode bytes in position ${start}-${end - 1}: ${reason}`;
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i]!;
    const length =
      lead < 0x80 ? 1 : lead < 0xc2 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : lead < 0xf5 ? 4 : 0;
    if (length === 0) return fail(i, i + 1, 'invalid start byte');
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length) return fail(i, bytes.length, 'unexpected end of data');
      const [lo, hi] = k === 1 ? secondByteRange(lead) : [0x80, 0xbf];
      const b = bytes[i + k]!;
      if (b < lo || b > hi) return fail(i, i + k, 'invalid continuation byte');
    }
    i += length;
  }
  return null;
}

/** Keeps a BOM as U+FEFF (Python's 'utf-8' codec does), refuses what Python refuses. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Python's strict UTF-8 decoding: the text, or str(UnicodeDecodeError) for the first bad sequence. */
export function decodeUtf8(bytes: ArrayLike<number>): { text: string } | { error: string } {
  const error = utf8ErrorText(bytes);
  if (error !== null) return { error };
  const view = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  return { text: STRICT_UTF8.decode(view) };
}

/**
 * `jsonutils.loads(body)` as placement's extract_json calls it: bytes are
 * decoded as strict UTF-8 first (an undecodable body is a ValueError too,
 * so "Malformed JSON: 'utf-8' codec can't decode byte 0xff in position 0:
 * invalid start byte"); a str is parsed as it is.
 */
export function loadsPyJson(body: string | Uint8Array): PyJson {
  if (typeof body === 'string') return parsePyJson(body);
  const decoded = decodeUtf8(body);
  if ('error' in decoded) throw new PyValueError(decoded.error);
  return parsePyJson(decoded.text);
}

/** True for a PyDict (a Map) rather than any other value. */
export function isPyDict(v: unknown): v is PyDict {
  return v instanceof Map;
}

/**
 * The plain JavaScript value: floats and ints become numbers (an int beyond
 * 2**53 rounds), dicts objects. Handlers that echo a value back or compare
 * it exactly should keep the PyJson.
 */
export function toPlain(v: PyJson): PlainJson {
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Map) {
    const out: { [key: string]: PlainJson } = {};
    for (const [key, value] of v) {
      // defineProperty: "__proto__" is a key like any other.
      Object.defineProperty(out, key, {
        value: toPlain(value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return v;
}

/** Python's repr(float): shortest round-trip digits, exponent below 1e-4 and from 1e16. */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exponentText = '0'] = n.toExponential().split('e');
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = `${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
    return `${sign}${digits[0]}${fraction}e${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
}

/** Values dumpsPyJson writes: PyJson, plus plain arrays and objects (undefined members left out). */
export type Dumpable =
  | PyJson
  | undefined
  | readonly Dumpable[]
  | ReadonlyMap<string, Dumpable>
  | { readonly [key: string]: Dumpable };

/** A JSON number as float.__repr__ writes it, with json's names for the non-finite ones. */
function dumpFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  return pyFloatRepr(n);
}

/** Printable ASCII but for the quote and the backslash. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** json's ensure_ascii string: \uXXXX (lower-case) for all but printable ASCII, by UTF-16 unit. */
export function dumpString(s: string): string {
  // Most strings (uuids, names, class names) need no escape at all.
  if (PLAIN_ASCII.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) {
      out += s[i];
      continue;
    }
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      default:
        out += `\\u${c.toString(16).padStart(4, '0')}`;
    }
  }
  return `${out}"`;
}

/**
 * `json.dumps(value)` as placement writes response bodies (jsonutils.dumps:
 * default separators, ensure_ascii). A number that is an integer is an int;
 * any other number, and every PyFloat, a float.
 */
export function dumpsPyJson(value: Dumpable): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return dumpFloat(value);
    return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
  }
  if (typeof value === 'string') return dumpString(value);
  if (value instanceof PyFloat) return dumpFloat(value.value);
  if (Array.isArray(value)) return `[${value.map(dumpsPyJson).join(', ')}]`;
  const entries: [string, Dumpable][] =
    value instanceof Map
      ? [...(value as ReadonlyMap<string, Dumpable>)]
      : Object.entries(value as { readonly [key: string]: Dumpable });
  const members = entries
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${dumpString(k)}: ${dumpsPyJson(v)}`);
  return `{${members.join(', ')}}`;
}
