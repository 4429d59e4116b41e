/**
 * How the workload talks to placement: one request at a time, through the
 * embedded API in-process (a scratch copy) or over HTTP (a live service,
 * `--endpoint`). Every exchange is kept whole, so that the step that fails
 * can show the request and the response that showed it.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { PlacementApi } from '../api/app.js';
import { ConnectionError, PlacementUpgradeError } from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';

/** One request and its answer, as a person reading a failure needs them. */
export interface Exchange {
  method: string;
  path: string;
  /** The microversion asked for; undefined when none was sent (placement then answers 1.0). */
  version?: string;
  requestBody?: unknown;
  status: number;
  /** The parsed JSON body (null for none or not JSON). */
  body: unknown;
  /** The body as sent, for when it is not JSON. */
  text: string;
  ms: number;
}

export interface CallOptions {
  version?: string;
  body?: unknown;
}

/** What the workload needs of a Placement API. */
export interface PlacementClient {
  /** Where requests go, for the report ("embedded API on …", a URL). */
  readonly description: string;
  call(method: string, path: string, options?: CallOptions): Promise<Exchange>;
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The embedded API, called in-process: no socket, the same pipeline as `api serve`. */
export class EmbeddedClient implements PlacementClient {
  constructor(
    private readonly api: PlacementApi,
    readonly description: string,
  ) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<Exchange> {
    const started = performance.now();
    const q = path.indexOf('?');
    const headers: Record<string, string> = { 'x-auth-token': 'admin', accept: 'application/json' };
    if (options.version) headers['openstack-api-version'] = `placement ${options.version}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await this.api.handle({
      method,
      rawPath: q === -1 ? path : path.slice(0, q),
      query: q === -1 ? '' : path.slice(q + 1),
      headers,
      body,
    });
    return {
      method,
      path,
      version: options.version,
      requestBody: options.body,
      status: res.status,
      body: parseBody(res.body),
      text: res.body,
      ms: performance.now() - started,
    };
  }
}

/**
 * A live Placement service over HTTP (keystone token, or noauth2's
 * "admin"). One connection per request, closed after it: uwsgi's
 * http-socket and many front ends close idle keep-alive connections
 * without notice, and a write must never be sent twice on a retry.
 */
export class HttpClient implements PlacementClient {
  readonly description: string;
  private readonly base: URL;

  constructor(
    endpoint: URL,
    private readonly token: string | undefined,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = endpoint;
    this.description = `${endpoint.origin}${endpoint.pathname.replace(/\/+$/, '')}`;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Exchange> {
    const started = performance.now();
    const headers: Record<string, string> = { accept: 'application/json', connection: 'close' };
    if (this.token !== undefined) headers['x-auth-token'] = this.token;
    if (options.version) headers['openstack-api-version'] = `placement ${options.version}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const url = new URL(this.base.pathname.replace(/\/+$/, '') + path, this.base);
    const { status, text } = await new Promise<{ status: number; text: string }>(
      (resolve, reject) => {
        const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
        const req = send(url, { method, headers, agent: false, timeout: this.timeoutMs }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        });
        req.on('timeout', () =>
          req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
        );
        req.on('error', reject);
        req.end(body);
      },
    ).catch((err: unknown) => {
      throw endpointError(this.description, err);
    });
    return {
      method,
      path,
      version: options.version,
      requestBody: options.body,
      status,
      body: parseBody(text),
      text,
      ms: performance.now() - started,
    };
  }
}

/** An endpoint that cannot be reached, as an operator would want it said. */
function endpointError(where: string, err: unknown): PlacementUpgradeError {
  const code = (err as { code?: string }).code ?? '';
  const why =
    code === 'ECONNREFUSED'
      ? 'the connection was refused (nothing listens there)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'the host name does not resolve'
        : code === 'ETIMEDOUT'
          ? 'it did not answer in time'
          : code === 'ECONNRESET'
            ? 'the service closed the connection without an answer'
            : (err as Error).message;
  return new ConnectionError(
    'unreachable',
    `Cannot reach the Placement API at ${where}: ${why}.`,
    'Check --endpoint (the URL nova uses for placement, e.g. http://controller:8778) and that the service is running.',
    err,
  );
}

/** The endpoint refused our token: exit 9, as a database refusing a password is. */
export function endpointAuthError(where: string, status: number): PlacementUpgradeError {
  return new PlacementUpgradeError(
    'endpoint_auth',
    ExitCode.AUTH_FAILED,
    `The Placement API at ${where} refused the token (HTTP ${status}).`,
    {
      hint: 'Give an admin token with --token or PLACEMENT_UPGRADE_TOKEN (openstack token issue); a noauth2 service takes "admin".',
    },
  );
}
