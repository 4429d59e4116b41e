/**
 * Compares two Placement API responses the way a client would notice a
 * difference: status, the headers placement's behaviour defines, and the
 * body (JSON compared as Python parses it, ints and floats apart, lists whose order placement leaves
 * unspecified compared as sets; request ids and "now" timestamps aside).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { parsePythonJson, PyFloat, PyInt, toPythonJson } from './python-json.js';

export interface Exchange {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ApiCall {
  method?: string;
  path: string;
  version?: string;
  /** Extra headers; null leaves out one that would be sent (content-type, say). */
  headers?: Record<string, string | null>;
  /** Leave X-Auth-Token out. */
  noToken?: boolean;
  /** A body, sent as given with its Content-Length and, unless headers say otherwise, as JSON. */
  body?: string;
}

/**
 * Sends one request on a fresh connection (uwsgi's plain http-socket does
 * not keep connections alive, nor read a chunked body); the token is
 * noauth2's admin unless told otherwise.
 */
export function call(base: string, c: ApiCall): Promise<Exchange> {
  const headers: Record<string, string> = { ...(c.noToken ? {} : { 'x-auth-token': 'admin' }) };
  if (c.version !== undefined) headers['openstack-api-version'] = `placement ${c.version}`;
  if (c.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(c.body));
  }
  for (const [k, v] of Object.entries(c.headers ?? {})) {
    if (v === null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: c.path,
        method: c.method ?? 'GET',
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: out,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(c.body);
  });
}

/** Python prints a set of unexpected properties in hash order: compare them sorted. */
function sortUnexpected(detail: string): string {
  return detail.replace(/\(((?:'[^']*'(?:, )?)+) were unexpected\)/g, (_, list: string) => {
    const names = list.split(', ').sort();
    return `(${names.join(', ')} were unexpected)`;
  });
}

/** Headers whose value must be equal (when either side has them). */
const EXACT_HEADERS = ['content-type', 'openstack-api-version', 'vary', 'allow', 'cache-control'];

const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Sorts lists whose order placement does not specify, and blanks request ids. */
function normalize(value: unknown, key?: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => normalize(v));
    if (key === 'resource_providers') {
      return items.sort((a, b) =>
        String((a as { uuid: string }).uuid).localeCompare(String((b as { uuid: string }).uuid)),
      );
    }
    if (key === 'resource_classes') {
      return items.sort((a, b) =>
        String((a as { name: string }).name).localeCompare(String((b as { name: string }).name)),
      );
    }
    if (key === 'traits' || key === 'aggregates') return [...(items as string[])].sort();
    return items;
  }
  if (value instanceof PyInt || value instanceof PyFloat) return value;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'request_id' && typeof v === 'string' && REQUEST_ID.test(v)) out[k] = 'req-*';
      else if (k === 'detail' && typeof v === 'string') out[k] = sortUnexpected(v);
      else out[k] = normalize(v, k);
    }
    return out;
  }
  return value;
}

/** The differences a client could see; empty when the two answers are equivalent. */
export function differences(ours: Exchange, theirs: Exchange): string[] {
  const diffs: string[] = [];
  if (ours.status !== theirs.status) diffs.push(`status ${ours.status} ≠ ${theirs.status}`);
  for (const h of EXACT_HEADERS) {
    if (ours.headers[h] !== theirs.headers[h]) {
      diffs.push(`header ${h}: ${ours.headers[h] ?? '(none)'} ≠ ${theirs.headers[h] ?? '(none)'}`);
    }
  }
  const lmOurs = ours.headers['last-modified'];
  const lmTheirs = theirs.headers['last-modified'];
  if ((lmOurs === undefined) !== (lmTheirs === undefined)) {
    diffs.push(`header last-modified: ${lmOurs ?? '(none)'} ≠ ${lmTheirs ?? '(none)'}`);
  } else if (lmOurs && lmTheirs && Math.abs(Date.parse(lmOurs) - Date.parse(lmTheirs)) > 5000) {
    // "now" on both sides may differ by the time between the two calls; data never by seconds.
    diffs.push(`header last-modified: ${lmOurs} ≠ ${lmTheirs}`);
  }
  for (const [side, ex] of [
    ['ours', ours],
    ['theirs', theirs],
  ] as const) {
    if (!REQUEST_ID.test(ex.headers['x-openstack-request-id'] ?? '')) {
      diffs.push(
        `${side}: x-openstack-request-id ${ex.headers['x-openstack-request-id'] ?? '(none)'}`,
      );
    }
  }
  const isJson = (ex: Exchange) =>
    (ex.headers['content-type'] ?? '').startsWith('application/json');
  if (isJson(ours) && isJson(theirs)) {
    let a: unknown;
    let b: unknown;
    try {
      // As Python parses them: 16 and 16.0 differ for a Python client.
      a = normalize(parsePythonJson(ours.body || 'null'));
      b = normalize(parsePythonJson(theirs.body || 'null'));
    } catch (err) {
      diffs.push(`body is not JSON: ${(err as Error).message}`);
      return diffs;
    }
    if (!isDeepStrictEqual(a, b)) {
      diffs.push(
        `body:\n  ours:   ${toPythonJson(a).slice(0, 1500)}\n  theirs: ${toPythonJson(b).slice(0, 1500)}`,
      );
    }
  } else if (ours.body !== theirs.body) {
    diffs.push(
      `body:\n  ours:   ${JSON.stringify(ours.body.slice(0, 800))}\n  theirs: ${JSON.stringify(theirs.body.slice(0, 800))}`,
    );
  }
  return diffs;
}

/**
 * Sends bytes as they are, for requests Node's own client would not send
 * (a Content-Length that is not a number), and reads the answer until the
 * server closes the connection.
 */
export function rawCall(base: string, head: string, body = ''): Promise<Exchange> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.end(head + body));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, end === -1 ? text.length : end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        if (colon > 0)
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0),
        headers,
        body: end === -1 ? '' : Buffer.from(text.slice(end + 4), 'latin1').toString('utf8'),
      });
    });
  });
}
