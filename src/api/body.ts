/**
 * Request bodies of the write routes, read as placement's util.extract_json
 * reads them: parsed as Python's json would, validated against the route's
 * JSON schema, a 400 with placement's wording otherwise. Handlers get plain
 * JavaScript values back.
 *
 * INTERIM: parsing is JSON.parse and the schema is not yet applied; the
 * Python-compatible parser and jsonschema-compatible validator replace
 * both (src/api/py-json.ts, src/api/json-schema.ts).
 */
import { badRequest } from './errors.js';

/** A JSON schema as placement declares it, keys in placement's order. */
export type JsonSchema = { [keyword: string]: unknown };

/** The body as plain values, or a 400 exactly as placement words it. */
export function readJsonBody(body: string, schema: JsonSchema): unknown {
  void schema;
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    throw badRequest(`Malformed JSON: ${(err as Error).message}`);
  }
}
