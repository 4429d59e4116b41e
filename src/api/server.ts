/**
 * `api serve`: the Placement API over HTTP with node:http. No framework:
 * placement's routing semantics (405 with Allow on every route, 404 below a
 * route's microversion, WebOb error bodies, HEAD answered 405) are what we
 * must reproduce, and a framework's own 404/405/body handling would stand
 * in the way; the pipeline in app.ts is plain functions instead.
 */
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { createServer as createNetServer, isIP } from 'node:net';
import type { Database } from '../db/connect.js';
import { PlacementUpgradeError, UsageError } from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';
import { PlacementApi, type ApiOptions, type ApiRequest } from './app.js';
import { syncStandardData, type StandardSyncResult } from './standard-sync.js';
import { PlacementStore } from './store/index.js';

export interface AccessLogEntry {
  remote: string;
  method: string;
  path: string;
  status: number;
  microversion: string;
  ms: number;
  requestId: string;
}

export interface ServeOptions extends ApiOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  onRequest?: (entry: AccessLogEntry) => void;
  /** A --workers worker: the primary synced the standard traits and classes once for all. */
  standardDataSynced?: boolean;
}

export interface RunningApi {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** What the start-up sync added (null when read-only). */
  readonly standardSync: StandardSyncResult | null;
  /** Stops accepting, lets requests in flight finish, closes idle connections. */
  close(): Promise<void>;
}

/** 127.0.0.1, ::1, localhost and the rest of 127/8. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return /^::ffff:127\./i.test(host);
}

/** Refuses to expose an unauthenticated API beyond the machine. */
export function checkBindAddress(host: string, authToken: string | undefined): void {
  if (!isLoopback(host) && authToken === undefined) {
    throw new UsageError(
      `Refusing to listen on ${host} without a token: placement's noauth2 mode lets anyone in.`,
      'Set --auth-token (or PLACEMENT_UPGRADE_API_TOKEN), or listen on 127.0.0.1.',
    );
  }
}

function headerMap(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Request bodies beyond this are refused (413) rather than buffered. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** The request body's bytes (decoded by the route, as placement does), or null when it is too large. */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function answer(
  api: PlacementApi,
  req: IncomingMessage,
  res: ServerResponse,
  options: ServeOptions,
) {
  const started = performance.now();
  // A fragment is the client's, never the server's (WSGI servers drop it too).
  const url = (req.url ?? '/').replace(/#.*$/s, '');
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const body = await readBody(req);
  const result =
    body === null
      ? await api.tooLarge(req.method ?? 'GET', headerMap(req))
      : await api.handle({
          method: req.method ?? 'GET',
          rawPath,
          query: q === -1 ? '' : url.slice(q + 1),
          headers: headerMap(req),
          body,
        });
  const payload = Buffer.from(result.body, 'utf8');
  for (const [name, value] of result.headers) res.appendHeader(name, value);
  if (result.status !== 204) res.setHeader('content-length', payload.length);
  res.writeHead(result.status);
  res.end(req.method === 'HEAD' ? undefined : payload);
  options.onRequest?.({
    remote: req.socket.remoteAddress ?? '-',
    method: req.method ?? '-',
    path: url,
    status: result.status,
    microversion: result.microversion,
    ms: Math.round((performance.now() - started) * 10) / 10,
    requestId: result.requestId,
  });
}

/**
 * The head of a request Node's parser refused, read from its raw bytes
 * (latin-1, as a WSGI server reads headers); null when it is not even an
 * HTTP/1 request line.
 */
export function requestFromRawHead(raw: Buffer): ApiRequest | null {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const [requestLine, ...lines] = (end === -1 ? text : text.slice(0, end)).split('\r\n');
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(requestLine ?? '');
  if (!m) return null;
  const headers: Record<string, string | undefined> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const url = m[2]!.replace(/#.*$/s, '');
  const q = url.indexOf('?');
  return {
    method: m[1]!,
    rawPath: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
    body: '',
  };
}

/**
 * Requests Node's HTTP parser refuses. One with a Content-Length that is
 * not a number reaches placement's own check (a 400 in its error format,
 * "content-length header must be an integer"), so it is answered by the
 * API from the raw head; anything else gets a bare 400, as Node would send.
 */
function answerClientError(api: PlacementApi, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) return;
  const raw = (err as { rawPacket?: Buffer }).rawPacket;
  const req = err.code === 'HPE_INVALID_CONTENT_LENGTH' && raw ? requestFromRawHead(raw) : null;
  if (!req) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return;
  }
  void api.handle(req).then((result) => {
    const payload = Buffer.from(result.body, 'utf8');
    const head = [
      `HTTP/1.1 ${result.status} ${STATUS_CODES[result.status] ?? ''}`,
      ...result.headers.map(([k, v]) => `${k}: ${v}`),
      `content-length: ${payload.length}`,
      'connection: close',
    ];
    socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), payload]));
  });
}

/** Starts the API on an open placement database (check it with requireServableSchema first). */
/** A port that cannot be listened on: in use (1) or not allowed (11). */
function listenError(
  host: string,
  port: number,
  err: NodeJS.ErrnoException,
): PlacementUpgradeError {
  return new PlacementUpgradeError(
    'listen_failed',
    err.code === 'EACCES' ? ExitCode.PERMISSION_DENIED : ExitCode.USAGE,
    `Cannot listen on ${host}:${port}: ${err.message}`,
    {
      hint:
        err.code === 'EADDRINUSE'
          ? 'Another process uses that port: choose another with --port.'
          : 'Check --host and --port.',
      cause: err,
    },
  );
}

/**
 * Binds the address once and lets it go: the primary of --workers finds a
 * port in use before it forks, so the error is said once, not per worker.
 */
export async function probeListen(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) => reject(listenError(host, port, err)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

export async function serveApi(db: Database, options: ServeOptions): Promise<RunningApi> {
  checkBindAddress(options.host, options.authToken);
  const standardSync =
    options.readOnly || options.standardDataSynced ? null : await syncStandardData(db);
  const store = new PlacementStore(db, { standardClassesIfMissing: options.readOnly });
  const api = new PlacementApi(store, options);
  const server: Server = createServer((req, res) => {
    answer(api, req, res, options).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(api, err, socket),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(listenError(options.host, options.port, err)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl}:${port}`,
    host: options.host,
    port,
    standardSync,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

export { PlacementApi };
