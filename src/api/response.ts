/**
 * Successful responses, and placement's caching headers: from 1.15 a
 * `last-modified` that is the newest updated_at/created_at of what is
 * returned (or now), with `cache-control: no-cache`.
 */
import type { RequestContext } from './context.js';
import { dumpsPyJson, PyFloat, type Dumpable } from './py-json.js';
import type { DbTime } from './store/index.js';

export interface ApiResponse {
  status: number;
  headers: [string, string][];
  body: string;
}

/** A request handler: the context in, a response out; errors are thrown ApiErrors. */
export type Handler = (ctx: RequestContext) => Promise<ApiResponse>;

/** Reads a database timestamp as UTC (placement stores naive UTC datetimes). */
export function parseDbTime(value: DbTime): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
  if (!m) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

interface Stamped {
  updated_at: DbTime;
  created_at: DbTime;
}

/**
 * util.pick_last_modified over a list: the newest of each object's
 * updated_at (or created_at); an object with neither counts as now.
 * Null when the list is empty.
 */
export function lastModifiedOf(objects: Iterable<Stamped>): Date | null {
  let newest: Date | null = null;
  for (const o of objects) {
    const t = parseDbTime(o.updated_at) ?? parseDbTime(o.created_at) ?? new Date();
    if (newest === null || t > newest) newest = t;
  }
  return newest;
}

/** The HTTP-date form, whole seconds, as WebOb writes it. */
export function httpDate(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toUTCString();
}

/**
 * A JSON response. `lastModified`: undefined → no caching headers; null →
 * only cache-control (placement's inventories of a provider with none);
 * a Date → both. Only applied from 1.15.
 */
export function json(
  ctx: RequestContext,
  body: unknown,
  lastModified?: Date | null,
  status = 200,
): ApiResponse {
  return jsonText(ctx, dumpsPyJson(body as Dumpable), lastModified, status);
}

/** As json(), for a body already written as Python's json.dumps writes it. */
export function jsonText(
  ctx: RequestContext,
  text: string,
  lastModified?: Date | null,
  status = 200,
): ApiResponse {
  const headers: [string, string][] = [['content-type', 'application/json']];
  if (lastModified !== undefined && ctx.version.atLeast('1.15')) {
    if (lastModified !== null) headers.push(['last-modified', httpDate(lastModified)]);
    headers.push(['cache-control', 'no-cache']);
  }
  return { status, headers, body: text };
}

/**
 * A number placement writes as a Python float (`16.0`, never `16`):
 * allocation ratios. A Python client tells the two apart.
 */
export const asFloat = (value: number): PyFloat => new PyFloat(value);

/** A body-less response (GET /traits/{name} answers 204). */
export function empty(status: number, headers: [string, string][] = []): ApiResponse {
  return { status, headers, body: '' };
}
