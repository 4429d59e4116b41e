/**
 * Reference schemas: what placement's OWN migrations create, per engine and
 * revision, introspected with our dialect layer into a comparable snapshot.
 * Captured from Debian's placement 8.0.0 by scripts/capture-reference-schemas.ts
 * and committed under test/reference/, so the comparison also runs where
 * placement is not installed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/db/url.js';
import type { SchemaSnapshot } from '../../src/schema/model.js';
import { ROOT } from './cli.js';

export function referencePath(engine: Engine): string {
  return join(ROOT, 'test', 'reference', `schema-${engine}.json`);
}

/** The committed reference snapshots for an engine, keyed by revision. */
export function loadReference(engine: Engine): Record<string, SchemaSnapshot> {
  return JSON.parse(readFileSync(referencePath(engine), 'utf8')) as Record<string, SchemaSnapshot>;
}

/**
 * Drops what differs between two databases of the same engine for reasons
 * that are not the schema (nothing today; kept as the one place to say so).
 */
export function comparable(snapshot: SchemaSnapshot): SchemaSnapshot {
  return JSON.parse(JSON.stringify(snapshot)) as SchemaSnapshot;
}
