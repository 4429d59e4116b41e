/**
 * JSON as Python's json module reads and writes it, for comparing
 * placement's bodies: `16` is an int and `16.0` a float, which JSON.parse
 * cannot tell apart but a Python client (nova, osc-placement) can, so a
 * body that says `"allocation_ratio": 16` where placement says `16.0` is a
 * difference. Written for the tests, independent of src/api.
 */

/** A JSON integer, kept as its digits (Python ints have no size limit). */
export class PyInt {
  readonly digits: string;
  constructor(digits: string | number | bigint) {
    this.digits = BigInt(digits).toString();
  }
}

/** A JSON number with a fraction or an exponent: a Python float. */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    // Python: -0.0 == 0.0.
    this.value = value === 0 ? 0 : value;
  }
}

export type PyValue = null | boolean | string | PyInt | PyFloat | PyValue[] | PyObject;
export interface PyObject {
  [key: string]: PyValue;
}

/** A float for a request body: `pyFloat(16)` is sent as `16.0`, as a Python client sends it. */
export function pyFloat(value: number): PyFloat {
  return new PyFloat(value);
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** Parses JSON text, keeping ints and floats apart; throws on what json.loads refuses. */
export function parsePythonJson(text: string): PyValue {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${at} of ${JSON.stringify(text.slice(0, 200))}`);
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const value = (): PyValue => {
    space();
    const c = text[at];
    if (c === '{') {
      at++;
      const out: PyObject = {};
      space();
      if (text[at] === '}') {
        at++;
        return out;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail('expected a key');
        const key = string();
        space();
        if (text[at++] !== ':') fail('expected ":"');
        // Python keeps the last of duplicate keys, as JSON.parse does.
        out[key] = value();
        space();
        const sep = text[at++];
        if (sep === '}') return out;
        if (sep !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const out: PyValue[] = [];
      space();
      if (text[at] === ']') {
        at++;
        return out;
      }
      for (;;) {
        out.push(value());
        space();
        const sep = text[at++];
        if (sep === ']') return out;
        if (sep !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = at;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    at += m[0].length;
    return m[1] !== undefined || m[2] !== undefined ? new PyFloat(Number(m[0])) : new PyInt(m[0]);
  };
  const string = (): string => {
    const start = at;
    at++;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    if (at >= text.length) fail('unterminated string');
    at++;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const out = value();
  space();
  if (at !== text.length) fail('trailing data');
  return out;
}

/** A float as Python's repr writes it (`16.0`, `1.5`, `1e-05`). */
function floatRepr(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return `${v}.0`;
  return String(v).replace(/e([+-])(\d)$/, 'e$10$2');
}

/** JSON text for a value (PyFloat written with its point); for bodies and for diffs. */
export function toPythonJson(value: unknown): string {
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (value instanceof PyInt) return value.digits;
  if (Array.isArray(value)) return `[${value.map(toPythonJson).join(', ')}]`;
  if (value && typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${toPythonJson(v)}`);
    return `{${parts.join(', ')}}`;
  }
  if (typeof value === 'number' && !Number.isInteger(value)) return floatRepr(value);
  return JSON.stringify(value) ?? 'null';
}
