/**
 * Query strings as placement reads them (WebOb's MultiDict: `get` is the
 * last value, `getAll` every value in order) and their validation against
 * placement's JSON schemas, with jsonschema's choice of error and wording.
 */
import { badRequest } from './errors.js';
import { pformat, pyRepr, type PyValue } from './py-format.js';
import { isUuidLike } from './uuid.js';

/** The bytes of a query's text: one per character as the HTTP server gave them (latin-1), UTF-8 beyond. */
function bytesOf(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code <= 0xff) out.push(code);
    else out.push(...Buffer.from(ch, 'utf8'));
  }
  return out;
}

/** urllib's unquote_to_bytes: `%XX` is a byte, anything else stays as it is. */
function unquoteToBytes(bytes: number[]): number[] {
  const out: number[] = [];
  const hex = (b: number | undefined) =>
    b !== undefined && ((b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x66));
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25 && hex(bytes[i + 1]) && hex(bytes[i + 2])) {
      out.push(parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16));
      i += 2;
    } else out.push(bytes[i]!);
  }
  return out;
}

/** Where a UTF-8 sequence starting with `lead` may have its second byte (the rest are 80–BF). */
function secondByteRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

/** Python's strict UTF-8 decoding: the text, or str(UnicodeDecodeError) for the first bad sequence. */
export function decodeUtf8(bytes: number[]): { text: string } | { error: string } {
  const fail = (start: number, end: number, reason: string) => ({
    error:
      end - start === 1
        ? `'utf-8' codec can't decode byte 0x${bytes[start]!.toString(16).padStart(2, '0')} in position ${start}: ${reason}`
        : `'utf-8' codec can't decode bytes in position ${start}-${end - 1}: ${reason}`,
  });
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
  return { text: Buffer.from(bytes).toString('utf8') };
}

/**
 * WebOb's parse_qsl_text: pairs split on `&` and `;`, `+` is a space, a
 * name without `=` has an empty value, names and values are percent-decoded
 * and then strictly UTF-8-decoded. The first undecodable one is the error
 * every later read of the query raises.
 */
function parseQuery(query: string): { entries: [string, string][]; error?: string } {
  const entries: [string, string][] = [];
  const pairs = query
    .replace(/\+/g, ' ')
    .split('&')
    .flatMap((s) => s.split(';'))
    .filter((s) => s !== '');
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const parts = eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const decoded: string[] = [];
    for (const part of parts) {
      const result = decodeUtf8(unquoteToBytes(bytesOf(part)));
      if ('error' in result) return { entries, error: result.error };
      decoded.push(result.text);
    }
    entries.push([decoded[0]!, decoded[1]!]);
  }
  return { entries };
}

export class QueryParams {
  private readonly entries: [string, string][];
  /** Why the query cannot be decoded; reading it is then a 400, as placement's validation makes it. */
  private readonly error: string | undefined;

  constructor(query: string) {
    const parsed = parseQuery(query);
    this.entries = parsed.entries;
    this.error = parsed.error;
  }

  private read(): [string, string][] {
    if (this.error !== undefined) {
      throw badRequest(`Invalid query string parameters: ${this.error}`);
    }
    return this.entries;
  }

  has(key: string): boolean {
    return this.read().some(([k]) => k === key);
  }

  /** The last value given for `key` (WebOb's `req.GET[key]`). */
  get(key: string): string | undefined {
    const entries = this.read();
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]![0] === key) return entries[i]![1];
    }
    return undefined;
  }

  getAll(key: string): string[] {
    return this.read()
      .filter(([k]) => k === key)
      .map(([, v]) => v);
  }

  /** `dict(req.GET)`: keys in order of first appearance, each with its last value. */
  toDict(): Record<string, string> {
    // No prototype: `constructor` or `__proto__` are parameter names like any other.
    const dict = Object.create(null) as Record<string, string>;
    for (const [k] of this.read()) if (!Object.hasOwn(dict, k)) dict[k] = this.get(k)!;
    return dict;
  }
}

/** The subset of JSON Schema that placement's query schemas use. */
export interface StringSchema {
  type: 'string';
  format?: 'uuid';
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

export interface QuerySchema {
  type: 'object';
  properties: Record<string, StringSchema>;
  required?: string[];
  additionalProperties: false;
  /** The order placement's schema dict lists its keywords in (jsonschema validates in that order). */
  keywordOrder?: ('properties' | 'required' | 'additionalProperties')[];
}

interface SchemaFailure {
  message: string;
  validator: string;
  /** Path into the schema, without the failing keyword. */
  schemaPath: string[];
  schema: PyValue;
  instancePath: string[];
  instance: PyValue;
}

function schemaAsPy(schema: QuerySchema | StringSchema): PyValue {
  const copy: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'keywordOrder' || v === undefined) continue;
    copy[k] = v as PyValue;
  }
  return copy;
}

function checkProperty(name: string, value: string, schema: StringSchema): SchemaFailure | null {
  const fail = (validator: string, message: string): SchemaFailure => ({
    message,
    validator,
    schemaPath: ['properties', name],
    schema: schemaAsPy(schema),
    instancePath: [name],
    instance: value,
  });
  // Keyword order as placement's schemas declare them.
  for (const keyword of Object.keys(schema)) {
    const length = [...value].length;
    if (keyword === 'format' && schema.format === 'uuid' && !isUuidLike(value)) {
      return fail('format', `${pyRepr(value)} is not a ${pyRepr('uuid')}`);
    }
    if (keyword === 'minLength' && length < schema.minLength!) {
      return fail('minLength', `${pyRepr(value)} is too short`);
    }
    if (keyword === 'maxLength' && length > schema.maxLength!) {
      return fail('maxLength', `${pyRepr(value)} is too long`);
    }
    if (keyword === 'pattern' && !new RegExp(schema.pattern!, 'u').test(value)) {
      return fail('pattern', `${pyRepr(value)} does not match ${pyRepr(schema.pattern!)}`);
    }
  }
  return null;
}

/** jsonschema's best_match: the first error among those nearest the top of the instance. */
function firstFailure(instance: Record<string, string>, schema: QuerySchema): SchemaFailure | null {
  const top: SchemaFailure[] = [];
  const nested: SchemaFailure[] = [];
  const whole = (validator: string, message: string): SchemaFailure => ({
    message,
    validator,
    schemaPath: [],
    schema: schemaAsPy(schema),
    instancePath: [],
    instance,
  });
  for (const keyword of schema.keywordOrder ?? ['properties', 'additionalProperties']) {
    if (keyword === 'properties') {
      for (const [name, sub] of Object.entries(schema.properties)) {
        const value = instance[name];
        if (value === undefined) continue;
        const f = checkProperty(name, value, sub);
        if (f) nested.push(f);
      }
    } else if (keyword === 'required') {
      for (const name of schema.required ?? []) {
        if (!Object.hasOwn(instance, name))
          top.push(whole('required', `${pyRepr(name)} is a required property`));
      }
    } else {
      const extras = Object.keys(instance).filter((k) => !Object.hasOwn(schema.properties, k));
      if (extras.length > 0) {
        top.push(
          whole(
            'additionalProperties',
            `Additional properties are not allowed (${extras.map(pyRepr).join(', ')} ${extras.length === 1 ? 'was' : 'were'} unexpected)`,
          ),
        );
      }
    }
  }
  return top[0] ?? nested[0] ?? null;
}

function asIndex(container: string, path: string[]): string {
  return path.length === 0 ? container : `${container}[${path.map(pyRepr).join('][')}]`;
}

/** str(ValidationError): the message, then the failing schema and instance, pretty-printed. */
function describe(f: SchemaFailure): string {
  const block = (v: PyValue) => pformat(v).split('\n').join('\n    ');
  return (
    `${f.message}\n\n` +
    `Failed validating ${pyRepr(f.validator)} in ${asIndex('schema', f.schemaPath)}:\n` +
    `    ${block(f.schema)}\n\n` +
    `On ${asIndex('instance', f.instancePath)}:\n` +
    `    ${block(f.instance)}`
  );
}

/** placement.util.validate_query_params: 400 with jsonschema's explanation. */
export function validateQuery(query: QueryParams, schema: QuerySchema): void {
  const failure = firstFailure(query.toDict(), schema);
  if (failure) throw badRequest(`Invalid query string parameters: ${describe(failure)}`);
}
