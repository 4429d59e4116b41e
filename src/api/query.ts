/**
 * Query strings as placement reads them (WebOb's MultiDict: `get` is the
 * last value, `getAll` every value in order) and their validation against
 * placement's JSON schemas, with jsonschema's choice of error and wording.
 */
import { badRequest } from './errors.js';
import { pformat, pyRepr, type PyValue } from './py-format.js';
import { isUuidLike } from './uuid.js';

export class QueryParams {
  private readonly entries: [string, string][];

  constructor(query: string) {
    this.entries = [...new URLSearchParams(query)];
  }

  has(key: string): boolean {
    return this.entries.some(([k]) => k === key);
  }

  /** The last value given for `key` (WebOb's `req.GET[key]`). */
  get(key: string): string | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i]![0] === key) return this.entries[i]![1];
    }
    return undefined;
  }

  getAll(key: string): string[] {
    return this.entries.filter(([k]) => k === key).map(([, v]) => v);
  }

  /** `dict(req.GET)`: keys in order of first appearance, each with its last value. */
  toDict(): Record<string, string> {
    const dict: Record<string, string> = {};
    for (const [k] of this.entries) if (!(k in dict)) dict[k] = this.get(k)!;
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
        if (!(name in instance))
          top.push(whole('required', `${pyRepr(name)} is a required property`));
      }
    } else {
      const extras = Object.keys(instance).filter((k) => !(k in schema.properties));
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
