/**
 * JSON Schema validation as placement gets it: `jsonschema.validate(data,
 * schema, format_checker=jsonschema.FormatChecker())` with Debian's
 * jsonschema 4.10 (python3-jsonschema in bookworm, what python3-placement
 * runs on). Placement reports one error, the one `best_match` picks, as
 * `str(ValidationError)`: the message, the failing keyword and where it is
 * in the schema, the schema and the instance pretty-printed. Every part of
 * that is reproduced here, in the same order of evaluation:
 *
 * - Placement's schemas have no `$schema`, so the latest draft applies:
 *   2020-12. There 1.0 is an "integer" (an integral float is), `items` is
 *   one schema for every element, and `$ref` has sibling keywords.
 * - Keywords are evaluated in the schema dict's order, and best_match keeps
 *   the first of equally relevant errors, so schemas are written as plain
 *   objects with their keys in placement's order.
 * - The "uuid" format is placement's own (oslo's is_uuid_like, registered
 *   on FormatChecker): it fails anything that is not a UUID string, a
 *   number or null included. No other format is checked here; placement
 *   uses none.
 * - `pattern` is a Python regular expression (re.search): `$` also matches
 *   before a final newline, `\d` is any Unicode digit.
 */
import { badRequest } from './errors.js';
import {
  comparePyStr,
  pformat,
  PY_WHITESPACE,
  pyLen,
  pyRepr,
  pyValueRepr,
  type PyValue,
} from './py-format.js';
import { loadsPyJson, PyFloat, PyValueError, type PyDict, type PyJson } from './py-json.js';
import { isUuidLike } from './uuid.js';

export type SchemaType = 'array' | 'boolean' | 'integer' | 'null' | 'number' | 'object' | 'string';

/** A number in a schema: a JavaScript number is an int when it is integral; floats such as 3.40282e+38 are PyFloat. */
export type SchemaNumber = number | PyFloat;

/** A value a schema holds (enum, const), with dicts written as plain objects. */
export type SchemaLiteral =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | readonly SchemaLiteral[]
  | { readonly [key: string]: SchemaLiteral };

/** The Draft 2020-12 keywords this validator implements. */
export interface SchemaObject {
  $schema?: string;
  $id?: string;
  $comment?: string;
  title?: string;
  description?: string;
  $ref?: string;
  $defs?: Readonly<Record<string, JsonSchema>>;
  definitions?: Readonly<Record<string, JsonSchema>>;
  type?: SchemaType | readonly SchemaType[];
  enum?: readonly SchemaLiteral[];
  const?: SchemaLiteral;
  format?: 'uuid';
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: SchemaNumber;
  maximum?: SchemaNumber;
  exclusiveMinimum?: SchemaNumber;
  exclusiveMaximum?: SchemaNumber;
  multipleOf?: SchemaNumber;
  properties?: Readonly<Record<string, JsonSchema>>;
  patternProperties?: Readonly<Record<string, JsonSchema>>;
  additionalProperties?: JsonSchema;
  propertyNames?: JsonSchema;
  required?: readonly string[];
  minProperties?: number;
  maxProperties?: number;
  items?: JsonSchema;
  prefixItems?: readonly JsonSchema[];
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  allOf?: readonly JsonSchema[];
  anyOf?: readonly JsonSchema[];
  oneOf?: readonly JsonSchema[];
  not?: JsonSchema;
  if?: JsonSchema;
  then?: JsonSchema;
  else?: JsonSchema;
}

/** A schema: an object of keywords, or true (anything) / false (nothing). */
export type JsonSchema = boolean | SchemaObject;

type PathItem = string | number;

/**
 * One jsonschema ValidationError. `keyword`, `instance` and `schema` are
 * left undefined by the keyword that raises it and filled in by the schema
 * it belongs to, as jsonschema's `_set` does; `path` and `schemaPath` are
 * relative to the error's parent (anyOf/oneOf) when it has one.
 */
class Failure {
  keyword: string | null | undefined = undefined;
  instance: PyJson | undefined = undefined;
  schema: JsonSchema | undefined = undefined;
  path: PathItem[] = [];
  schemaPath: PathItem[] = [];

  constructor(
    readonly message: string,
    readonly context: Failure[] = [],
  ) {}
}

// ---------------------------------------------------------------------------
// Python values: types, equality, repr

function isDict(v: PyJson): v is PyDict {
  return v instanceof Map;
}

/** The number a numeric PyJson stands for (bools are numbers to Python's ==, not to jsonschema's types). */
function numeric(v: PyJson): number | bigint | null {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/** Python's `==` between two JSON values (True == 1 == 1.0, containers element by element). */
function pyEquals(a: PyJson, b: PyJson): boolean {
  const x = numeric(a);
  const y = numeric(b);
  // Loose equality compares a bigint and a number exactly, as Python compares int and float.
  if (x !== null && y !== null) return x == y;
  if (x !== null || y !== null) return false;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => pyEquals(item, b[i]!));
  }
  if (isDict(a) && isDict(b)) {
    if (a.size !== b.size) return false;
    for (const [key, value] of a) {
      if (!b.has(key) || !pyEquals(value, b.get(key)!)) return false;
    }
    return true;
  }
  return false;
}

/** jsonschema's `_utils.equal`: Python's `==`, except that a bool equals only the same bool, at any depth. */
function schemaEquals(a: PyJson, b: PyJson): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => schemaEquals(item, b[i]!));
  }
  if (isDict(a) && isDict(b)) {
    if (a.size !== b.size) return false;
    for (const [key, value] of a) {
      if (!b.has(key) || !schemaEquals(value, b.get(key)!)) return false;
    }
    return true;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  return pyEquals(a, b);
}

/** The draft 2020-12 type checker. */
function isType(instance: PyJson, type: string): boolean {
  switch (type) {
    case 'array':
      return Array.isArray(instance);
    case 'boolean':
      return typeof instance === 'boolean';
    case 'integer':
      // An integral float is an integer from draft 6 on: 1.0 passes, NaN and inf do not.
      return (
        typeof instance === 'bigint' ||
        (typeof instance === 'number' && Number.isInteger(instance)) ||
        (instance instanceof PyFloat && Number.isInteger(instance.value))
      );
    case 'null':
      return instance === null;
    case 'number':
      return (
        typeof instance === 'number' || typeof instance === 'bigint' || instance instanceof PyFloat
      );
    case 'object':
      return isDict(instance);
    case 'string':
      return typeof instance === 'string';
    default:
      throw new Error(`Unknown type ${pyRepr(type)} for validator with schema`);
  }
}

/** A schema or instance value as the PyValue that pformat and repr print. */
function asPy(v: unknown): PyValue {
  if (
    v === null ||
    typeof v === 'boolean' ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'string' ||
    v instanceof PyFloat
  ) {
    return v;
  }
  if (Array.isArray(v)) return v.map(asPy);
  if (v instanceof Map) return new Map([...(v as PyDict)].map(([k, item]) => [k, asPy(item)]));
  if (typeof v === 'object') {
    const out: { [key: string]: PyValue } = {};
    for (const [key, value] of Object.entries(v)) {
      if (value !== undefined)
        Object.defineProperty(out, key, { value: asPy(value), enumerable: true });
    }
    return out;
  }
  throw new TypeError(`not a JSON value in a schema: ${String(v)}`);
}

/** A schema literal as the PyJson it equals (plain objects become dicts). */
function literalAsJson(v: SchemaLiteral): PyJson {
  if (Array.isArray(v)) return v.map(literalAsJson);
  if (typeof v === 'object' && v !== null && !(v instanceof PyFloat)) {
    return new Map(Object.entries(v).map(([k, item]) => [k, literalAsJson(item)]));
  }
  return v as PyJson;
}

const repr = (v: unknown) => pyValueRepr(asPy(v));

// ---------------------------------------------------------------------------
// Python regular expressions

/** Python's \w on a str: letters, numbers, underscore. */
const PY_WORD = '\\p{L}\\p{N}_';
/** Characters JavaScript's `u` flag lets a backslash escape. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');

/** One escape (`\x` with `x` at pattern[i]) in JavaScript form; `inClass` inside [...]. */
function translateEscape(ch: string, inClass: boolean): string {
  const classes: Record<string, [string, string | null]> = {
    d: ['\\p{Nd}', '[\\p{Nd}]'],
    D: ['', '[^\\p{Nd}]'],
    w: [PY_WORD, `[${PY_WORD}]`],
    W: ['', `[^${PY_WORD}]`],
    s: [PY_WHITESPACE, `[${PY_WHITESPACE}]`],
    S: ['', `[^${PY_WHITESPACE}]`],
  };
  const cls = classes[ch];
  if (cls) {
    if (inClass && cls[0] === '') throw new Error(`unsupported \\${ch} inside a character class`);
    return inClass ? cls[0] : cls[1]!;
  }
  if (!inClass) {
    if (ch === 'A') return '^';
    if (ch === 'Z') return '$';
    const word = `[${PY_WORD}]`;
    if (ch === 'b') return `(?:(?<=${word})(?!${word})|(?<!${word})(?=${word}))`;
    if (ch === 'B') return `(?:(?<=${word})(?=${word})|(?<!${word})(?!${word}))`;
  }
  if (/[0-9nrtfvux]/.test(ch) || JS_SYNTAX.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  if (/[A-Za-z]/.test(ch)) throw new Error(`unsupported escape \\${ch}`);
  // Python escapes any punctuation; JavaScript's `u` mode only its syntax characters.
  return ch;
}

/** Python's regular-expression syntax (the subset schemas use) as a JavaScript RegExp source. */
function translatePattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[++i];
      if (next === undefined) throw new Error('bad escape (end of pattern)');
      out += translateEscape(next, inClass);
    } else if (inClass) {
      if (ch === ']') inClass = false;
      out += ch === '[' ? '\\[' : ch;
    } else if (ch === '[') {
      inClass = true;
      out += '[';
      if (pattern[i + 1] === '^') out += pattern[++i];
      // A ']' first in a Python class is a literal.
      if (pattern[i + 1] === ']') {
        out += '\\]';
        i++;
      }
    } else if (ch === '$') {
      out += '(?=\\n?$)';
    } else if (ch === '.') {
      out += '[^\\n]';
    } else if (ch === '(' && pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (ch === '(' && pattern.startsWith('(?P=', i)) {
      const close = pattern.indexOf(')', i);
      out += `\\k<${pattern.slice(i + 4, close)}>`;
      i = close;
    } else if (ch === '(' && pattern[i + 1] === '?' && !/[:=!<]/.test(pattern[i + 2] ?? '')) {
      throw new Error(`unsupported group ${pattern.slice(i, i + 3)}`);
    } else if (ch === '{') {
      const quantifier = /^\{(\d*)(,\d*)?\}/.exec(pattern.slice(i));
      if (quantifier && (quantifier[1] !== '' || quantifier[2] !== undefined)) {
        out += `{${quantifier[1] || '0'}${quantifier[2] ?? ''}}`;
        i += quantifier[0].length - 1;
      } else out += '\\{';
    } else if (ch === '}' || ch === ']') {
      out += `\\${ch}`;
    } else out += ch;
  }
  return out;
}

const REGEX_CACHE = new Map<string, RegExp>();

/** re.search(pattern, text). */
function pySearch(pattern: string, text: string): boolean {
  let regex = REGEX_CACHE.get(pattern);
  if (!regex) {
    regex = new RegExp(translatePattern(pattern), 'u');
    REGEX_CACHE.set(pattern, regex);
  }
  return regex.test(text);
}

// ---------------------------------------------------------------------------
// The validator

type Keyword = (v: Validator, value: never, instance: PyJson, schema: SchemaObject) => Failure[];

function asArray<T>(v: T | readonly T[]): readonly T[] {
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

/** A schema's bound as a number (comparing it with a bigint instance is exact, as in Python). */
function schemaNumber(n: SchemaNumber): number {
  return n instanceof PyFloat ? n.value : n;
}

/** find_additional_properties: the instance's keys neither `properties` nor `patternProperties` cover. */
function additionalKeys(instance: PyDict, schema: SchemaObject): string[] {
  const properties = schema.properties ?? {};
  const patterns = Object.keys(schema.patternProperties ?? {}).join('|');
  return [...instance.keys()].filter(
    (key) => !Object.hasOwn(properties, key) && !(patterns && pySearch(patterns, key)),
  );
}

/** extras_msg: sorted reprs and "was"/"were". */
function extrasMessage(extras: string[]): [string, string] {
  const sorted = [...extras].sort(comparePyStr);
  return [sorted.map(pyRepr).join(', '), extras.length === 1 ? 'was' : 'were'];
}

/** jsonschema's uniq: whether no two elements are equal (bools distinct from numbers). */
function allUnique(items: readonly PyJson[]): boolean {
  for (let i = 0; i < items.length; i++) {
    for (let j = 0; j < i; j++) if (schemaEquals(items[i]!, items[j]!)) return false;
  }
  return true;
}

/** jsonschema's _validators, keyword by keyword, with their messages. */
const KEYWORDS: Record<string, Keyword> = {
  $ref(v, ref: string, instance) {
    return v.descend(instance, v.resolve(ref));
  },

  additionalProperties(v, aP: JsonSchema, instance, schema) {
    if (!isDict(instance)) return [];
    const extras = additionalKeys(instance, schema);
    if (typeof aP === 'object') {
      // jsonschema walks a set here (an order Python does not fix); the instance's order is as good.
      return extras.flatMap((extra) => v.descend(instance.get(extra)!, aP, extra));
    }
    if (aP || extras.length === 0) return [];
    if (schema.patternProperties !== undefined) {
      const joined = [...extras].sort(comparePyStr).map(pyRepr).join(', ');
      const patterns = Object.keys(schema.patternProperties).sort(comparePyStr).map(pyRepr);
      const verb = extras.length === 1 ? 'does' : 'do';
      return [
        new Failure(`${joined} ${verb} not match any of the regexes: ${patterns.join(', ')}`),
      ];
    }
    const [names, verb] = extrasMessage(extras);
    return [new Failure(`Additional properties are not allowed (${names} ${verb} unexpected)`)];
  },

  allOf(v, allOf: readonly JsonSchema[], instance) {
    return allOf.flatMap((sub, index) => v.descend(instance, sub, undefined, index));
  },

  anyOf(v, anyOf: readonly JsonSchema[], instance) {
    const all: Failure[] = [];
    for (const [index, sub] of anyOf.entries()) {
      const errors = v.descend(instance, sub, undefined, index);
      if (errors.length === 0) return [];
      all.push(...errors);
    }
    return [new Failure(`${repr(instance)} is not valid under any of the given schemas`, all)];
  },

  const(_v, value: SchemaLiteral, instance) {
    return schemaEquals(instance, literalAsJson(value))
      ? []
      : [new Failure(`${repr(value)} was expected`)];
  },

  enum(_v, enums: readonly SchemaLiteral[], instance) {
    const values = enums.map(literalAsJson);
    const found =
      pyEquals(instance, 0) || pyEquals(instance, 1)
        ? // 0, 1, False, True: a bool matches only itself, a number no bool.
          values.some((each) =>
            typeof instance === 'boolean' || typeof each === 'boolean'
              ? instance === each
              : pyEquals(instance, each),
          )
        : values.some((each) => pyEquals(instance, each));
    return found ? [] : [new Failure(`${repr(instance)} is not one of ${repr(enums)}`)];
  },

  exclusiveMaximum(_v, maximum: SchemaNumber, instance) {
    const n = isType(instance, 'number') ? numeric(instance)! : null;
    if (n === null || !(n >= schemaNumber(maximum))) return [];
    return [
      new Failure(`${repr(instance)} is greater than or equal to the maximum of ${repr(maximum)}`),
    ];
  },

  exclusiveMinimum(_v, minimum: SchemaNumber, instance) {
    const n = isType(instance, 'number') ? numeric(instance)! : null;
    if (n === null || !(n <= schemaNumber(minimum))) return [];
    return [
      new Failure(`${repr(instance)} is less than or equal to the minimum of ${repr(minimum)}`),
    ];
  },

  format(_v, format: string, instance) {
    // placement's checker: oslo's is_uuid_like, False for anything but a str.
    if (format !== 'uuid') return [];
    if (typeof instance === 'string' && isUuidLike(instance)) return [];
    return [new Failure(`${repr(instance)} is not a ${pyRepr(format)}`)];
  },

  if(v, ifSchema: JsonSchema, instance, schema) {
    if (v.isValid(instance, ifSchema)) {
      return schema.then === undefined ? [] : v.descend(instance, schema.then, undefined, 'then');
    }
    return schema.else === undefined ? [] : v.descend(instance, schema.else, undefined, 'else');
  },

  items(v, items: JsonSchema, instance, schema) {
    if (!Array.isArray(instance)) return [];
    const prefix = schema.prefixItems?.length ?? 0;
    if (items === false && instance.length > prefix) {
      return [new Failure(`Expected at most ${prefix} items, but found ${instance.length}`)];
    }
    return instance.slice(prefix).flatMap((item, i) => v.descend(item, items, prefix + i));
  },

  maxItems(_v, max: number, instance) {
    return Array.isArray(instance) && instance.length > max
      ? [new Failure(`${repr(instance)} is too long`)]
      : [];
  },

  maxLength(_v, max: number, instance) {
    return typeof instance === 'string' && pyLen(instance) > max
      ? [new Failure(`${repr(instance)} is too long`)]
      : [];
  },

  maxProperties(_v, max: number, instance) {
    return isDict(instance) && instance.size > max
      ? [new Failure(`${repr(instance)} has too many properties`)]
      : [];
  },

  maximum(_v, maximum: SchemaNumber, instance) {
    const n = isType(instance, 'number') ? numeric(instance)! : null;
    if (n === null || !(n > schemaNumber(maximum))) return [];
    return [new Failure(`${repr(instance)} is greater than the maximum of ${repr(maximum)}`)];
  },

  minItems(_v, min: number, instance) {
    return Array.isArray(instance) && instance.length < min
      ? [new Failure(`${repr(instance)} is too short`)]
      : [];
  },

  minLength(_v, min: number, instance) {
    return typeof instance === 'string' && pyLen(instance) < min
      ? [new Failure(`${repr(instance)} is too short`)]
      : [];
  },

  minProperties(_v, min: number, instance) {
    return isDict(instance) && instance.size < min
      ? [new Failure(`${repr(instance)} does not have enough properties`)]
      : [];
  },

  minimum(_v, minimum: SchemaNumber, instance) {
    const n = isType(instance, 'number') ? numeric(instance)! : null;
    if (n === null || !(n < schemaNumber(minimum))) return [];
    return [new Failure(`${repr(instance)} is less than the minimum of ${repr(minimum)}`)];
  },

  multipleOf(_v, dB: SchemaNumber, instance) {
    const n = isType(instance, 'number') ? numeric(instance)! : null;
    if (n === null) return [];
    const divisor = schemaNumber(dB);
    let failed: boolean;
    if (dB instanceof PyFloat || !Number.isInteger(divisor)) {
      // Where the quotient overflows, jsonschema falls back to exact fractions; this does not.
      const quotient = Number(n) / divisor;
      failed = Math.trunc(quotient) !== quotient;
    } else if (typeof n === 'bigint') {
      failed = n % BigInt(divisor) !== 0n;
    } else {
      const rest = n % divisor;
      failed = rest !== 0;
    }
    return failed ? [new Failure(`${repr(instance)} is not a multiple of ${repr(dB)}`)] : [];
  },

  not(v, notSchema: JsonSchema, instance) {
    return v.isValid(instance, notSchema)
      ? [new Failure(`${repr(instance)} should not be valid under ${repr(notSchema)}`)]
      : [];
  },

  oneOf(v, oneOf: readonly JsonSchema[], instance) {
    const all: Failure[] = [];
    let firstValid = -1;
    for (const [index, sub] of oneOf.entries()) {
      const errors = v.descend(instance, sub, undefined, index);
      if (errors.length === 0) {
        firstValid = index;
        break;
      }
      all.push(...errors);
    }
    if (firstValid === -1) {
      return [new Failure(`${repr(instance)} is not valid under any of the given schemas`, all)];
    }
    const moreValid = oneOf.slice(firstValid + 1).filter((sub) => v.isValid(instance, sub));
    if (moreValid.length === 0) return [];
    const reprs = [...moreValid, oneOf[firstValid]!].map(repr).join(', ');
    return [new Failure(`${repr(instance)} is valid under each of ${reprs}`)];
  },

  pattern(_v, pattern: string, instance) {
    return typeof instance === 'string' && !pySearch(pattern, instance)
      ? [new Failure(`${repr(instance)} does not match ${pyRepr(pattern)}`)]
      : [];
  },

  patternProperties(v, patternProperties: Readonly<Record<string, JsonSchema>>, instance) {
    if (!isDict(instance)) return [];
    const out: Failure[] = [];
    for (const [pattern, sub] of Object.entries(patternProperties)) {
      for (const [key, value] of instance) {
        if (pySearch(pattern, key)) out.push(...v.descend(value, sub, key, pattern));
      }
    }
    return out;
  },

  prefixItems(v, prefixItems: readonly JsonSchema[], instance) {
    if (!Array.isArray(instance)) return [];
    return instance
      .slice(0, prefixItems.length)
      .flatMap((item, index) => v.descend(item, prefixItems[index]!, index, index));
  },

  properties(v, properties: Readonly<Record<string, JsonSchema>>, instance) {
    if (!isDict(instance)) return [];
    return Object.entries(properties).flatMap(([name, sub]) =>
      instance.has(name) ? v.descend(instance.get(name)!, sub, name, name) : [],
    );
  },

  propertyNames(v, propertyNames: JsonSchema, instance) {
    if (!isDict(instance)) return [];
    return [...instance.keys()].flatMap((key) => v.descend(key, propertyNames));
  },

  required(_v, required: readonly string[], instance) {
    if (!isDict(instance)) return [];
    return required
      .filter((name) => !instance.has(name))
      .map((name) => new Failure(`${pyRepr(name)} is a required property`));
  },

  type(_v, types: SchemaType | readonly SchemaType[], instance) {
    const list = asArray(types);
    if (list.some((t) => isType(instance, t))) return [];
    return [new Failure(`${repr(instance)} is not of type ${list.map(pyRepr).join(', ')}`)];
  },

  uniqueItems(_v, unique: boolean, instance) {
    return unique && Array.isArray(instance) && !allUnique(instance)
      ? [new Failure(`${repr(instance)} has non-unique elements`)]
      : [];
  },
};

/** Keywords whose name jsonschema leaves out of an error's schema path. */
const UNPATHED = new Set(['if', '$ref']);

class Validator {
  constructor(private readonly root: JsonSchema) {}

  /** iter_errors: every error, keyword by keyword in the schema's order. */
  errors(instance: PyJson, schema: JsonSchema): Failure[] {
    if (schema === true) return [];
    if (schema === false) {
      const f = new Failure(`False schema does not allow ${repr(instance)}`);
      f.keyword = null;
      f.instance = instance;
      f.schema = false;
      return [f];
    }
    const out: Failure[] = [];
    for (const [keyword, value] of Object.entries(schema)) {
      const check = KEYWORDS[keyword];
      if (!check || value === undefined) continue;
      for (const f of check(this, value as never, instance, schema)) {
        if (f.keyword === undefined) f.keyword = keyword;
        if (f.instance === undefined) f.instance = instance;
        if (f.schema === undefined) f.schema = schema;
        if (!UNPATHED.has(keyword)) f.schemaPath.unshift(keyword);
        out.push(f);
      }
    }
    return out;
  }

  descend(instance: PyJson, schema: JsonSchema, path?: PathItem, schemaPath?: PathItem): Failure[] {
    const errors = this.errors(instance, schema);
    for (const f of errors) {
      if (path !== undefined) f.path.unshift(path);
      if (schemaPath !== undefined) f.schemaPath.unshift(schemaPath);
    }
    return errors;
  }

  isValid(instance: PyJson, schema: JsonSchema): boolean {
    return this.errors(instance, schema).length === 0;
  }

  /** A `$ref` into this schema ("#", "#/definitions/x", "#/$defs/x"); other documents are not fetched. */
  resolve(ref: string): JsonSchema {
    if (!ref.startsWith('#')) throw new Error(`Unresolvable JSON pointer: ${pyRepr(ref)}`);
    let node: unknown = this.root;
    const pointer = decodeURIComponent(ref.slice(1));
    for (const raw of pointer.split('/').slice(1)) {
      const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      const next: unknown =
        typeof node === 'object' && node !== null && Object.hasOwn(node, part)
          ? (node as Record<string, unknown>)[part]
          : Array.isArray(node)
            ? node[Number(part)]
            : undefined;
      if (next === undefined) throw new Error(`Unresolvable JSON pointer: ${pyRepr(pointer)}`);
      node = next;
    }
    return node as JsonSchema;
  }
}

// ---------------------------------------------------------------------------
// best_match and str(ValidationError)

const WEAK = new Set(['anyOf', 'oneOf']);

/** Error._matches_type: whether the instance has the type its schema asks for. */
function matchesType(f: Failure): boolean {
  const schema = f.schema;
  if (typeof schema !== 'object' || schema.type === undefined) return false;
  return asArray(schema.type).some((t) => isType(f.instance!, t));
}

/** exceptions.relevance: shallower first, then not anyOf/oneOf, then a type mismatch first. */
function relevance(f: Failure): number[] {
  return [-f.path.length, WEAK.has(f.keyword ?? '') ? 0 : 1, 0, matchesType(f) ? 0 : 1];
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * exceptions.best_match: the most relevant error (the first of equals);
 * inside an anyOf/oneOf, the least relevant of its context, unless two
 * tie for that.
 */
function bestMatch(errors: Failure[]): Failure | null {
  let best = errors[0];
  if (!best) return null;
  for (const f of errors) if (compareKeys(relevance(f), relevance(best)) > 0) best = f;
  while (best.context.length > 0) {
    const keys = best.context.map(relevance);
    let smallest = 0;
    for (let i = 1; i < keys.length; i++)
      if (compareKeys(keys[i]!, keys[smallest]!) < 0) smallest = i;
    const ties = keys.filter((k) => compareKeys(k, keys[smallest]!) === 0).length;
    if (ties >= 2) return best;
    best = best.context[smallest]!;
  }
  return best;
}

/** _utils.format_as_index. */
function asIndex(container: string, path: readonly PathItem[]): string {
  if (path.length === 0) return container;
  return `${container}[${path.map((p) => (typeof p === 'number' ? String(p) : pyRepr(p))).join('][')}]`;
}

/** str(ValidationError): the message, then the failing schema and instance, pretty-printed. */
function describe(f: Failure): string {
  const block = (v: PyValue) => pformat(v).split('\n').join('\n    ');
  const keyword = f.keyword === null || f.keyword === undefined ? 'None' : pyRepr(f.keyword);
  return (
    `${f.message}\n\n` +
    `Failed validating ${keyword} in ${asIndex('schema', f.schemaPath.slice(0, -1))}:\n` +
    `    ${block(asPy(f.schema))}\n\n` +
    `On ${asIndex('instance', f.path)}:\n` +
    `    ${block(f.instance!)}`
  );
}

/**
 * jsonschema.validate(instance, schema, format_checker=FormatChecker())
 * under placement: null when valid, else str() of the error it raises.
 */
export function validateJson(instance: PyJson, schema: JsonSchema): string | null {
  const best = bestMatch(new Validator(schema).errors(instance, schema));
  return best ? describe(best) : null;
}

/**
 * placement.util.extract_json: the body parsed as Python parses it and
 * validated against the schema, or the 400 placement answers ("Malformed
 * JSON: …" / "JSON does not validate: …"). Pass the body's bytes when you
 * have them: a body that is not UTF-8 is a 400 of its own.
 */
export function parseBody(body: string | Uint8Array, schema: JsonSchema): PyJson {
  let data: PyJson;
  try {
    data = loadsPyJson(body);
  } catch (err) {
    if (err instanceof PyValueError) throw badRequest(`Malformed JSON: ${err.message}`);
    throw err;
  }
  const error = validateJson(data, schema);
  if (error !== null) throw badRequest(`JSON does not validate: ${error}`);
  return data;
}
