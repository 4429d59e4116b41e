/**
 * The few Python semantics oslo.policy's checks lean on: str() of the
 * values in credentials and targets, `format % mapping` (how a check's
 * match is filled from the target), and ast.literal_eval() of a generic
 * check's left side. Exact where policy files go; an error here is what
 * Python would raise, and becomes a 500 as placement's fault wrapper makes it.
 */
import { pyRepr } from '../py-format.js';

/** A value as Python holds it in a credentials or target dict. */
export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** A Python exception raised while evaluating a check (placement answers 500 with its text). */
export class PythonError extends Error {
  constructor(
    readonly pyType: string,
    message: string,
  ) {
    super(message);
    this.name = 'PythonError';
  }
}

/** Python's float repr: the shortest digits that round-trip, exponent outside 1e-4 ≤ |x| < 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let out: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return negative ? `-${out}` : out;
}

/** A float that Python would print with a decimal point (as opposed to an int). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** repr() of a value (dict keys in insertion order, as Python 3.7+ keeps them). */
export function pyReprValue(v: PyValue | PyFloat): string {
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (typeof v === 'string') return pyRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyReprValue).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${pyRepr(k)}: ${pyReprValue(x)}`)
    .join(', ')}}`;
}

/** str() of a value: a str is itself, everything else its repr. */
export function pyStr(v: PyValue | PyFloat): string {
  return typeof v === 'string' ? v : pyReprValue(v);
}

/** Thrown by pyFormat when the mapping lacks a key (oslo's checks then answer False). */
export class PyKeyError extends Error {
  constructor(readonly key: string) {
    super(pyRepr(key));
    this.name = 'KeyError';
  }
}

function isDict(v: PyValue): v is { [key: string]: PyValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `format % mapping` as Python's str.__mod__ does it with a dict on the
 * right: `%(key)s` takes mapping[key], a bare `%s` takes the dict itself,
 * `%%` is a percent sign. Conversions s, r, a, d, i, u are supported;
 * others raise as Python would for a str value (ValueError/TypeError).
 */
export function pyFormat(format: string, mapping: { [key: string]: PyValue }): string {
  let out = '';
  let i = 0;
  let usedBare = false;
  while (i < format.length) {
    const ch = format[i]!;
    if (ch !== '%') {
      out += ch;
      i += 1;
      continue;
    }
    const start = i;
    i += 1;
    if (i >= format.length) throw new PythonError('ValueError', 'incomplete format');
    let value: PyValue;
    if (format[i] === '(') {
      // Python counts nested parentheses in the key.
      let depth = 1;
      let j = i + 1;
      while (j < format.length && depth > 0) {
        if (format[j] === '(') depth += 1;
        else if (format[j] === ')') depth -= 1;
        j += 1;
      }
      if (depth > 0) throw new PythonError('ValueError', 'incomplete format key');
      const key = format.slice(i + 1, j - 1);
      if (!Object.hasOwn(mapping, key)) throw new PyKeyError(key);
      value = mapping[key]!;
      i = j;
    } else {
      value = mapping;
    }
    // Flags, width, precision and a length modifier, which Python accepts and we honour loosely.
    const spec = /^([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?[hlL]?/.exec(format.slice(i))!;
    if (spec[2] === '*' || spec[3] === '*') {
      throw new PythonError('TypeError', '* wants int');
    }
    i += spec[0].length;
    if (i >= format.length) throw new PythonError('ValueError', 'incomplete format');
    const conv = format[i]!;
    i += 1;
    if (conv === '%' && format[start + 1] !== '(') {
      out += '%';
      continue;
    }
    if (value === mapping && format[start + 1] !== '(') {
      if (usedBare) throw new PythonError('TypeError', 'not enough arguments for format string');
      usedBare = true;
    }
    let text: string;
    switch (conv) {
      case 's':
        text = pyStr(value);
        break;
      case 'r':
      case 'a':
        text = pyReprValue(value);
        break;
      case 'd':
      case 'i':
      case 'u':
        if (typeof value === 'boolean') text = value ? '1' : '0';
        else if (typeof value === 'number') text = String(Math.trunc(value));
        else {
          throw new PythonError(
            'TypeError',
            `%${conv} format: a real number is required, not ${pyTypeName(value)}`,
          );
        }
        break;
      default:
        throw new PythonError(
          'ValueError',
          `unsupported format character '${conv}' (0x${conv.charCodeAt(0).toString(16)}) at index ${i - 1}`,
        );
    }
    const width = spec[2] ? Number(spec[2]) : 0;
    if (spec[3] !== undefined && 'sra'.includes(conv)) text = text.slice(0, Number(spec[3]));
    if (text.length < width) {
      text = spec[1]!.includes('-') ? text.padEnd(width) : text.padStart(width);
    }
    out += text;
  }
  return out;
}

/** Python's type name of a value, for error texts. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return isDict(v) ? 'dict' : 'object';
}

const PY_KEYWORDS = new Set(
  (
    'and as assert async await break class continue def del elif else except finally for from ' +
    'global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

/** The outcome of ast.literal_eval(text): a value, or `notLiteral` (Python's ValueError). */
export type LiteralResult = { value: PyValue | PyFloat } | { notLiteral: true };

function unquote(body: string, quote: string): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === quote) return undefined;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[++i];
    if (next === undefined) return undefined;
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      '\\': '\\',
      "'": "'",
      '"': '"',
      '0': '\0',
    };
    out += simple[next] ?? `\\${next}`;
  }
  return out;
}

/**
 * ast.literal_eval() for what can stand left of the colon of a generic
 * check (one whitespace-free token): numbers, quoted strings, True, False,
 * None. A dotted path of identifiers is not a literal (ValueError: oslo
 * then looks it up in the credentials); text Python cannot parse raises
 * SyntaxError. Containers ([1, 2], {…}) are taken as paths, which
 * oslo.policy would compare as literals: no real policy writes those.
 */
export function pyLiteralEval(text: string): LiteralResult {
  if (text === 'True') return { value: true };
  if (text === 'False') return { value: false };
  if (text === 'None') return { value: null };
  const sign = /^[+-]/.test(text) ? text[0]! : '';
  const unsigned = sign ? text.slice(1) : text;
  if (/^(?:0(?:_?0)*|[1-9](?:_?\d)*)$/.test(unsigned)) {
    const n = Number(unsigned.replace(/_/g, ''));
    return { value: sign === '-' ? -n : n };
  }
  if (/^0[xX](?:_?[0-9a-fA-F])+$|^0[oO](?:_?[0-7])+$|^0[bB](?:_?[01])+$/.test(unsigned)) {
    const n = Number(unsigned.replace(/_/g, ''));
    return { value: sign === '-' ? -n : n };
  }
  if (
    /^(?:\d(?:_?\d)*)?\.(?:\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?$|^\d(?:_?\d)*[eE][+-]?\d(?:_?\d)*$/.test(
      unsigned,
    ) &&
    unsigned !== '.'
  ) {
    const n = Number(unsigned.replace(/_/g, ''));
    return { value: new PyFloat(sign === '-' ? -n : n) };
  }
  if (!sign) {
    // Adjacent string literals concatenate ('a''b' is 'ab').
    const pieces = /^(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")+$/.exec(text);
    if (pieces) {
      let value = '';
      for (const m of text.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) {
        const body = m[1] ?? m[2]!;
        const quote = m[1] !== undefined ? "'" : '"';
        const s = unquote(body, quote);
        if (s === undefined) throw new PythonError('SyntaxError', 'invalid syntax');
        value += s;
      }
      return { value };
    }
  }
  if (text === '') {
    throw new PythonError('SyntaxError', 'invalid syntax (<unknown>, line 0)');
  }
  const segments = text.split('.');
  if (segments.every((s) => /^[A-Za-z_]\w*$/.test(s))) {
    if (segments.some((s) => PY_KEYWORDS.has(s))) {
      throw new PythonError('SyntaxError', 'invalid syntax');
    }
    return { notLiteral: true };
  }
  if (segments.some((s) => /^\d/.test(s)) && segments.length > 1 && /^[A-Za-z_]/.test(text)) {
    // a.1 and the like: Python's tokenizer reads ".1" as a float after a name.
    throw new PythonError('SyntaxError', 'invalid syntax');
  }
  return { notLiteral: true };
}
