/**
 * py-json against the Python that placement runs: every input is parsed by
 * /usr/bin/python3 too (oslo's jsonutils.loads where installed, as
 * placement's extract_json calls it), in one batch per suite, and the error
 * text, json.dumps, repr and pprint.pformat of the result must be the same.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/util/seeded-random.js';
import { pformat, pyValueRepr, type PyValue } from '../../../src/api/py-format.js';
import {
  dumpsPyJson,
  loadsPyJson,
  parsePyJson,
  PyFloat,
  PyJsonDecodeError,
  PyRecursionError,
  PyValueError,
  toPlain,
  type Dumpable,
} from '../../../src/api/py-json.js';

const PYTHON = '/usr/bin/python3';
const hasPython = existsSync(PYTHON);

/** What one side made of an input. */
interface Outcome {
  error?: string;
  recursion?: boolean;
  dumps?: string;
  repr?: string | null;
  pformat?: (string | null)[];
}

const WIDTHS = [72, 30, 8];

const HARNESS = `
import json, pprint, struct, sys
try:
    from oslo_serialization import jsonutils
    loads_bytes = jsonutils.loads
except ImportError:
    def loads_bytes(b):
        return json.loads(b.decode('utf-8'))

def untag(t):
    kind, v = t['t'], t.get('v')
    if kind == 'none': return None
    if kind in ('bool', 'str'): return v
    if kind == 'int': return int(v)
    if kind == 'float': return struct.unpack('>d', bytes.fromhex(v))[0]
    if kind == 'list': return [untag(x) for x in v]
    return {k: untag(x) for k, x in v}

def guarded(fn):
    try:
        return fn()
    except (RecursionError, ValueError):
        return None

def outcome(load):
    try:
        value = load()
    except RecursionError:
        return {'recursion': True}
    except ValueError as e:
        return {'error': str(e)}
    return {
        'dumps': json.dumps(value),
        'repr': guarded(lambda: repr(value)),
        'pformat': [guarded(lambda: pprint.pformat(value, width=w)) for w in ${JSON.stringify(WIDTHS)}],
    }

out = []
for case in json.load(sys.stdin):
    if 'text' in case:
        out.append(outcome(lambda: json.loads(case['text'])))
    elif 'hex' in case:
        out.append(outcome(lambda: loads_bytes(bytes.fromhex(case['hex']))))
    else:
        out.append(outcome(lambda: untag(case['tagged'])))
print(json.dumps(out))
`;

type Case = { text: string } | { hex: string } | { tagged: Tagged };
type Tagged = { t: string; v?: unknown };

function python(cases: Case[]): Outcome[] {
  return JSON.parse(
    execFileSync(PYTHON, ['-c', HARNESS], {
      input: JSON.stringify(cases),
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    }),
  ) as Outcome[];
}

/** Our side of `outcome`, for the inputs Python could print (repr and pformat give up on deep nesting). */
function ours(load: () => PyValue, reference: Outcome): Outcome {
  let value: PyValue;
  try {
    value = load();
  } catch (err) {
    if (err instanceof PyRecursionError) return { recursion: true };
    if (err instanceof PyValueError) return { error: err.message };
    throw err;
  }
  return {
    dumps: dumpsPyJson(value as Dumpable),
    repr: reference.repr === null ? null : pyValueRepr(value),
    pformat: WIDTHS.map((w, i) => (reference.pformat?.[i] === null ? null : pformat(value, w))),
  };
}

/** The value without its undefined members, as Python receives it. */
function defined(v: Dumpable): PyValue {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(defined);
  if (v instanceof Map)
    return new Map([...(v as ReadonlyMap<string, Dumpable>)].map(([k, x]) => [k, defined(x)]));
  if (typeof v === 'object' && v !== null && !(v instanceof PyFloat)) {
    return Object.fromEntries(
      Object.entries(v as { [key: string]: Dumpable })
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, defined(x)]),
    );
  }
  return v as PyValue;
}

function floatHex(n: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n);
  return [...new Uint8Array(view.buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A value in a form Python rebuilds exactly (ints as digits, floats by their bits). */
function tag(v: Dumpable): Tagged {
  if (v === null || v === undefined) return { t: 'none' };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (typeof v === 'string') return { t: 'str', v };
  if (typeof v === 'bigint') return { t: 'int', v: v.toString() };
  if (typeof v === 'number') {
    return Number.isInteger(v)
      ? { t: 'int', v: BigInt(v).toString() }
      : { t: 'float', v: floatHex(v) };
  }
  if (v instanceof PyFloat) return { t: 'float', v: floatHex(v.value) };
  if (Array.isArray(v)) return { t: 'list', v: v.map(tag) };
  const entries: [string, Dumpable][] =
    v instanceof Map ? [...(v as ReadonlyMap<string, Dumpable>)] : Object.entries(v);
  return { t: 'dict', v: entries.filter(([, x]) => x !== undefined).map(([k, x]) => [k, tag(x)]) };
}

/** A reproducible fuzz corpus. */
const prng = seededRandom;

const VALID = [
  '0',
  '-0',
  '-0.0',
  '0.0',
  '1',
  '-1',
  '1.0',
  '16.0',
  '1.5',
  '0.1',
  '1e5',
  '1E5',
  '1e-5',
  '1E+2',
  '0.0001',
  '0.00001',
  '123.456e-7',
  '1.5e+300',
  '1e400',
  '-1e400',
  '1e16',
  '1e15',
  '1.5e16',
  '123456789012345678',
  '123456789012345678.0',
  '100000000000000000000.0',
  '1.7976931348623157e308',
  '5e-324',
  '3.40282e+38',
  '2147483647',
  '9007199254740991',
  '9007199254740992',
  '-9007199254740993',
  '123456789012345678901234567890',
  '1'.repeat(4300),
  `1.${'1'.repeat(5000)}`,
  'NaN',
  'Infinity',
  '-Infinity',
  '[NaN, Infinity, -Infinity, -0.0, 1e-7]',
  'true',
  'false',
  'null',
  '""',
  '"abc"',
  '"\\u00e9\\u00E9"',
  '"\\ud83d\\ude00"',
  '"\\ud83d"',
  '"\\ude00\\ud83d"',
  '"\\ud83d\\u0041"',
  '"\\ud83d\\ud83d\\ude00"',
  '"\\ud83dx"',
  '"\\ud83d\\n"',
  '"😀 é ü 東京"',
  '"\u2028\u2029\u00a0\u00ad\u200b\ufeff\x7f\x85"',
  '"\\/\\b\\f\\n\\r\\t\\"\\\\"',
  '"it\'s"',
  '"both \' and \\""',
  ' \t\n\r[1, 2] \n',
  '{}',
  '[]',
  '[[], {}, [[]]]',
  '{"a": 1, "b": [1, 2.0, {"c": null}]}',
  '{"a": 1, "a": 2}',
  '{"b": 1, "a": 2, "b": 3}',
  '{"10": 1, "2": 2, "a": 3, "1": 4}',
  '{"__proto__": {"x": 1}, "constructor": 2}',
  '{"":0}',
  `"${'word '.repeat(40)}"`,
  `["${'a'.repeat(100)}", "x y z ${'b'.repeat(30)} ${'c'.repeat(30)}"]`,
  `{"key": "${'line\\n'.repeat(5)}end", "zz": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]}`,
  `"${'x'.repeat(30)}\\u2028${'y'.repeat(30)}\\r\\n${'z '.repeat(30)}\\u000b end"`,
  `{"resource_provider_generation": 1, "inventories": {"VCPU": {"total": 8, "allocation_ratio": 16.0}, "MEMORY_MB": {"total": 1024.0, "reserved": 512, "allocation_ratio": 1.5}}}`,
  `${'['.repeat(900)}${']'.repeat(900)}`,
  `${'{"a":'.repeat(900)}1${'}'.repeat(900)}`,
];

const INVALID = [
  '',
  ' ',
  '\n\n  ',
  'x',
  '[',
  ']',
  '{',
  '}',
  '[1,]',
  '[1 2]',
  '[,1]',
  '{"a"}',
  '{"a" 1}',
  '{"a":}',
  '{"a":1,}',
  '{a:1}',
  "{'a':1}",
  '{"a":1 "b":2}',
  '{"a":1,,}',
  '{ "a" : 1 , }',
  '[1]x',
  '[1] [2]',
  '1 2',
  '"abc',
  '"abc\\',
  '"abc\\"',
  '"\\x"',
  '"\\U0041"',
  '"\\u12"',
  '"\\u12',
  '"\\u123"',
  '"\\u1234',
  '"\\u1234"x',
  '"\\uZZZZ"',
  '"\\u12G4"',
  '"\\ud800\\u12"',
  '"\\ud800\\uZZZZ"',
  '"\\ud800\\u"',
  '"\\ud800\\udc0',
  '"\\ud800\\udc00',
  '"\\ud800\\"',
  '"a\nb"',
  '"a\tb"',
  '"\x00"',
  '"\x1f"',
  '["ok", "\x01"]',
  '\ufeff[]',
  '\ufeff',
  ' \ufeff[]',
  '-',
  '-x',
  '--1',
  '+1',
  '01',
  '00',
  '-01',
  '1.',
  '.5',
  '1.e5',
  '1e',
  '1e+',
  '[1e]',
  '[1e-]',
  '[1.5e+]',
  '[1.5E]',
  'nul',
  'tru',
  'fals',
  'NaNa',
  'Inf',
  '-Inf',
  '-Infinit',
  'nan',
  'infinity',
  'True',
  'None',
  '[1,\n2,\n  x]',
  '{\n  "a": 1,\n  "b": \n}',
  '"😀😀" x',
  '["😀", x]',
  '"é\n😀',
  '"😀\\q"',
  '["东京", "😀"] 😀',
  '{"😀": 1 "b": 2}',
  '[1]\n\n   \ufeff',
  '\u00a0[]',
  '[1,\u00a02]',
  '[1,\u20032]',
  '１',
  '[٣]',
  '1'.repeat(4301),
  `-${'1'.repeat(4301)}`,
  `[${'1'.repeat(5000)}]`,
  `[1, "x", ${'9'.repeat(4301)}e]`,
  `${'['.repeat(1100)}${']'.repeat(1100)}`,
  `${'{"a":'.repeat(1100)}1${'}'.repeat(1100)}`,
  '['.repeat(1100),
  '['.repeat(10),
  `${'['.repeat(50)}1,]${']'.repeat(49)}`,
];

const BYTES = [
  '',
  '5b315d',
  'ff',
  '5b22ff225d',
  'c3',
  'c328',
  'e282',
  'e28241',
  'eda080',
  'edbfbf',
  'f0808080',
  'f4908080',
  'f09f98',
  'c080',
  'e080',
  '22e922',
  '7b2261223a20312c20226222c3a9',
  'efbbbf5b5d',
  '22c3a922',
  '22f09f988022',
  '20202078',
];

/** Random strings of JSON's punctuation and a few traps, to find what the lists above missed. */
function fuzzCorpus(count: number): string[] {
  const next = prng(0x5eed);
  const atoms = [
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '"',
    '\\',
    '"a"',
    '"k":',
    '1',
    '0',
    '-',
    '.',
    'e',
    'E',
    '+',
    '12.5',
    '-0',
    'true',
    'null',
    'NaN',
    '-Infinity',
    ' ',
    '\n',
    '\t',
    'u',
    'ud83d',
    'x',
    '😀',
    'é',
    '\x01',
    '\u00a0',
  ];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(next() * 12);
    let s = '';
    for (let k = 0; k < length; k++) s += atoms[Math.floor(next() * atoms.length)]!;
    out.push(s);
  }
  return out;
}

const DUMPS: Dumpable[] = [
  null,
  true,
  0,
  -0,
  1,
  -1,
  2 ** 53 + 2,
  1e21,
  -1e300,
  123456789012345678901234567890n,
  0.1,
  -0.5,
  1e16 + 0.5,
  1e-5,
  1.5e-7,
  1234.5678,
  NaN,
  Infinity,
  -Infinity,
  new PyFloat(16),
  new PyFloat(-0),
  new PyFloat(1e16),
  new PyFloat(1e15),
  new PyFloat(3.40282e38),
  new PyFloat(5e-324),
  new PyFloat(0.0001),
  new PyFloat(123456789.125),
  '',
  'plain',
  'quote " backslash \\ slash / tab \t nl \n cr \r bs \b ff \f nul \x00 unit \x1f del \x7f',
  'é ü ß 東京 😀 \u2028 \ud800 lone \udfff',
  [],
  {},
  [1, [2, [3, []]], { a: undefined, b: null }],
  { b: 1, a: 2, 10: 3, 2: 4 },
  new Map<string, Dumpable>([
    ['10', 1],
    ['2', 2],
    ['a', new PyFloat(1)],
    ['__proto__', [new PyFloat(NaN)]],
  ]),
  { errors: [{ status: 400, title: 'Bad Request', detail: 'x\ny', request_id: 'req-1' }] },
  {
    resource_provider_generation: 3,
    inventories: {
      VCPU: { total: 8, reserved: 0, min_unit: 1, max_unit: 8, step_size: 1, allocation_ratio: 16 },
      DISK_GB: { total: 100, allocation_ratio: new PyFloat(1) },
    },
  },
];

describe.skipIf(!hasPython)('parsePyJson and dumpsPyJson match Python json', () => {
  const texts = [...VALID, ...INVALID, ...fuzzCorpus(600)];
  const cases: Case[] = [
    ...texts.map((text) => ({ text })),
    ...BYTES.map((hex) => ({ hex })),
    ...DUMPS.map((v) => ({ tagged: tag(v) })),
  ];
  const reference = python(cases);
  const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

  it('accepts what json.loads accepts, with the same ints, floats, strings and key order', () => {
    for (const [i, text] of VALID.entries()) {
      const expected = reference[i]!;
      expect(expected.error, `python refused ${JSON.stringify(text.slice(0, 80))}`).toBeUndefined();
      expect(
        ours(() => parsePyJson(text), expected),
        text.slice(0, 80),
      ).toEqual(expected);
    }
  });

  it("refuses what json.loads refuses, with JSONDecodeError's text", () => {
    for (const [k, text] of INVALID.entries()) {
      const expected = reference[VALID.length + k]!;
      expect(
        expected.dumps,
        `python accepted ${JSON.stringify(text.slice(0, 80))}`,
      ).toBeUndefined();
      expect(
        ours(() => parsePyJson(text), expected),
        JSON.stringify(text.slice(0, 80)),
      ).toEqual(expected);
    }
  });

  it('agrees on random token soup', () => {
    const start = VALID.length + INVALID.length;
    let refused = 0;
    for (const [k, text] of texts.slice(start).entries()) {
      const expected = reference[start + k]!;
      if (expected.error) refused++;
      expect(
        ours(() => parsePyJson(text), expected),
        JSON.stringify(text),
      ).toEqual(expected);
    }
    // The soup is mostly invalid, and not only at its first character.
    expect(refused).toBeGreaterThan(300);
    expect(new Set(reference.slice(start).map((o) => o.error?.split(':')[0])).size).toBeGreaterThan(
      6,
    );
  });

  it("decodes a body's bytes as jsonutils.loads does: strict UTF-8, the BOM kept", () => {
    for (const [k, hex] of BYTES.entries()) {
      const expected = reference[texts.length + k]!;
      expect(
        ours(() => loadsPyJson(fromHex(hex)), expected),
        hex,
      ).toEqual(expected);
    }
  });

  it('writes what json.dumps writes', () => {
    for (const [k, value] of DUMPS.entries()) {
      const expected = reference[texts.length + BYTES.length + k]!;
      expect(
        ours(() => defined(value), expected),
        dumpsPyJson(value),
      ).toEqual(expected);
    }
  });
});

describe('py-json values', () => {
  it('keeps int, float and big int apart', () => {
    expect(parsePyJson('1')).toBe(1);
    expect(parsePyJson('1.0')).toEqual(new PyFloat(1));
    expect(parsePyJson('1e2')).toBeInstanceOf(PyFloat);
    expect(parsePyJson('9007199254740991')).toBe(9007199254740991);
    expect(parsePyJson('9007199254740993')).toBe(9007199254740993n);
    expect(Object.is(parsePyJson('-0'), 0)).toBe(true);
    expect(Object.is((parsePyJson('-0.0') as PyFloat).value, -0)).toBe(true);
  });

  it('keeps dict order and the last of duplicate keys, in a Map', () => {
    const dict = parsePyJson('{"b": 1, "10": 2, "b": 3, "__proto__": 4}');
    expect(dict).toBeInstanceOf(Map);
    expect([...(dict as Map<string, unknown>)]).toEqual([
      ['b', 3],
      ['10', 2],
      ['__proto__', 4],
    ]);
  });

  it('toPlain gives plain objects and numbers', () => {
    const plain = toPlain(
      parsePyJson('{"a": [1.5, 2, null], "__proto__": {"x": 1e400}, "n": 12345678901234567890}'),
    );
    expect(plain).toEqual({
      a: [1.5, 2, null],
      ['__proto__']: { x: Infinity },
      n: Number('12345678901234567890'),
    });
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.keys(plain as object)).toEqual(['a', '__proto__', 'n']);
  });

  it('reports positions in characters, as Python counts them', () => {
    const err = (() => {
      try {
        parsePyJson('["😀",\n 😀]');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PyJsonDecodeError);
    expect(err).toMatchObject({ msg: 'Expecting value', pos: 7, lineno: 2, colno: 2 });
  });
});
