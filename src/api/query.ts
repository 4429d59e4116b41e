/**
 * Query strings as placement reads them (WebOb's MultiDict: `get` is the
 * last value, `getAll` every value in order) and their validation against
 * placement's JSON schemas, with jsonschema's choice of error and wording.
 */
import { badRequest } from './errors.js';
import { validateJson, type JsonSchema, type SchemaObject } from './json-schema.js';
import { decodeUtf8 } from './py-json.js';

export { decodeUtf8 };

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

  /** Every (name, value) pair in query order (WebOb's `req.GET.items()`). */
  pairs(): readonly [string, string][] {
    return this.read();
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

  /** `dict(req.GET)` as a Map: keys in order of first appearance (even "1" before "a"), each with its last value. */
  toMap(): Map<string, string> {
    const map = new Map<string, string>();
    for (const [k] of this.read()) if (!map.has(k)) map.set(k, this.get(k)!);
    return map;
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

/** A QuerySchema as the schema dict placement has: its keywords in `keywordOrder` when given. */
function asJsonSchema(schema: QuerySchema | JsonSchema): JsonSchema {
  if (typeof schema !== 'object' || !('keywordOrder' in schema)) return schema;
  const { keywordOrder, ...rest } = schema;
  if (!keywordOrder) return rest;
  const ordered: Record<string, unknown> = {};
  const keys = Object.keys(rest) as (keyof typeof rest)[];
  // The ordered keywords take, in their order, the places the schema gives them together.
  const queue = keys.filter((k) => (keywordOrder as string[]).includes(k));
  const sorted = keywordOrder.filter((k) => queue.includes(k));
  for (const key of keys) {
    const k = queue.includes(key) ? sorted.shift()! : key;
    ordered[k] = rest[k];
  }
  return ordered as SchemaObject;
}

/**
 * placement.util.validate_query_params: `dict(req.GET)` (every value a
 * string, the last one given) validated against the schema; a 400 with
 * jsonschema's explanation when it does not validate.
 */
export function validateQuery(query: QueryParams, schema: QuerySchema | JsonSchema): void {
  const error = validateJson(query.toMap(), asJsonSchema(schema));
  if (error !== null) throw badRequest(`Invalid query string parameters: ${error}`);
}
