/**
 * CORS as placement wires oslo.middleware's CORS middleware: only when
 * [cors] allowed_origin is set, outside authentication (so a preflight
 * needs no token), with the defaults placement's wsgi.py gives the
 * [cors] options. A preflight (OPTIONS) is always answered 200 with an
 * empty body, whatever the API said of it; the CORS headers are added only
 * when the origin, method and headers asked for are all allowed. Other
 * requests from an allowed origin get the origin headers added.
 */
import { ConfigError } from '../errors/errors.js';
import type { OsloConfigValues } from '../config/oslo-ini.js';
import { parseOsloBool } from './policy/options.js';
import { pyIntOrNull } from './py-format.js';
import type { ApiResponse } from './response.js';

export interface CorsOptions {
  /** [cors] allowed_origin: origins ("https://horizon.example.com"), or "*". */
  allowedOrigins: string[];
  allowCredentials: boolean;
  exposeHeaders: string[];
  /** Seconds a preflight may be cached; 0 or unset sends no Access-Control-Max-Age. */
  maxAge: number | null;
  allowMethods: string[];
  allowHeaders: string[];
}

/** placement's own defaults for the [cors] options (placement/wsgi.py), beside oslo's. */
export const PLACEMENT_CORS_DEFAULTS: Omit<CorsOptions, 'allowedOrigins'> = {
  allowCredentials: true,
  exposeHeaders: [
    'X-Auth-Token',
    'X-Openstack-Request-Id',
    'X-Subject-Token',
    'X-Service-Token',
    'OpenStack-API-Version',
  ],
  maxAge: 3600,
  allowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'],
  allowHeaders: [
    'X-Auth-Token',
    'X-Openstack-Request-Id',
    'X-Identity-Status',
    'X-Roles',
    'X-Service-Catalog',
    'X-User-Id',
    'X-Tenant-Id',
    'OpenStack-API-Version',
  ],
};

/** The headers a browser may always send (oslo.middleware's simple_headers). */
const SIMPLE_HEADERS = [
  'Accept',
  'Accept-Language',
  'Content-Type',
  'Cache-Control',
  'Content-Language',
  'Expires',
  'Last-Modified',
  'Pragma',
];

/** oslo.config's ListOpt: comma-separated, items trimmed, a trailing comma ignored. */
function parseList(value: string): string[] {
  const v = value.trim().replace(/,+$/, '');
  return v === '' ? [] : v.split(',').map((s) => s.trim());
}

/** The [cors] options, or undefined when allowed_origin is not set (placement then has no CORS). */
export function readCorsOptions(config: OsloConfigValues): CorsOptions | undefined {
  const section = config.get('cors');
  const last = (name: string) => {
    const v = section?.get(name);
    return v && v.length > 0 ? v[v.length - 1] : undefined;
  };
  const origins = last('allowed_origin');
  const allowedOrigins = origins === undefined ? [] : parseList(origins);
  if (allowedOrigins.length === 0) return undefined;
  const list = (name: string, fallback: string[]) => {
    const v = last(name);
    return v === undefined ? fallback : parseList(v);
  };
  const credentials = last('allow_credentials');
  const maxAgeText = last('max_age');
  let maxAge = PLACEMENT_CORS_DEFAULTS.maxAge;
  if (maxAgeText !== undefined) {
    maxAge = maxAgeText.trim() === '' ? null : pyIntOrNull(maxAgeText);
    if (maxAge === null && maxAgeText.trim() !== '') {
      throw new ConfigError(
        `[cors] max_age = ${maxAgeText} is not an integer.`,
        'Give the number of seconds a browser may cache a preflight answer (placement defaults to 3600).',
      );
    }
  }
  return {
    allowedOrigins,
    allowCredentials:
      credentials === undefined
        ? PLACEMENT_CORS_DEFAULTS.allowCredentials
        : parseOsloBool(credentials, '[cors] allow_credentials'),
    exposeHeaders: list('expose_headers', PLACEMENT_CORS_DEFAULTS.exposeHeaders),
    maxAge,
    allowMethods: list('allow_methods', PLACEMENT_CORS_DEFAULTS.allowMethods),
    allowHeaders: list('allow_headers', PLACEMENT_CORS_DEFAULTS.allowHeaders),
  };
}

type Headers = Record<string, string | undefined>;

/** The configured origin an Origin header matches ("*" as a fallback), or undefined. */
function matchOrigin(cors: CorsOptions, origin: string): string | undefined {
  if (cors.allowedOrigins.includes(origin)) return origin;
  return cors.allowedOrigins.includes('*') ? '*' : undefined;
}

function splitHeaderValues(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function headerIndex(headers: [string, string][], name: string): number {
  return headers.findIndex(([n]) => n.toLowerCase() === name);
}

/** The answer to a preflight: 200 and empty unless the API said 2xx, with CORS headers when all is allowed. */
function preflight(cors: CorsOptions, req: Headers, response: ApiResponse): ApiResponse {
  const out: ApiResponse =
    response.status >= 200 && response.status < 300
      ? response
      : { status: 200, headers: [], body: '' };
  const originHeader = req['origin'];
  if (originHeader === undefined) return out;
  const origin = matchOrigin(cors, originHeader);
  if (origin === undefined) return out;
  const method = req['access-control-request-method'];
  if (method === undefined) return out;
  const requested = splitHeaderValues(req['access-control-request-headers']);
  if (!cors.allowMethods.includes(method)) return out;
  const permitted = [...cors.allowHeaders, ...SIMPLE_HEADERS].map((h) => h.toUpperCase());
  if (!requested.every((h) => permitted.includes(h.toUpperCase()))) return out;
  const headers = out.headers.filter(([n]) => n.toLowerCase() !== 'vary');
  headers.push(['vary', 'Origin'], ['access-control-allow-origin', origin]);
  if (cors.allowCredentials) headers.push(['access-control-allow-credentials', 'true']);
  if (cors.maxAge) headers.push(['access-control-max-age', String(cors.maxAge)]);
  headers.push(['access-control-allow-methods', method]);
  if (requested.length > 0) headers.push(['access-control-allow-headers', requested.join(',')]);
  return { ...out, headers };
}

/** Adds the CORS headers oslo.middleware adds to a response (a preflight's answer when OPTIONS). */
export function applyCors(
  cors: CorsOptions,
  method: string,
  req: Headers,
  response: ApiResponse,
): ApiResponse {
  if (headerIndex(response.headers, 'access-control-allow-origin') !== -1) return response;
  if (method === 'OPTIONS') return preflight(cors, req, response);
  const originHeader = req['origin'];
  if (originHeader === undefined) return response;
  const origin = matchOrigin(cors, originHeader);
  if (origin === undefined) return response;
  const headers = [...response.headers];
  const vary = headerIndex(headers, 'vary');
  if (vary === -1) headers.push(['vary', 'Origin']);
  else headers[vary] = [headers[vary]![0], `${headers[vary]![1]},Origin`];
  headers.push(['access-control-allow-origin', origin]);
  if (cors.allowCredentials) headers.push(['access-control-allow-credentials', 'true']);
  if (cors.exposeHeaders.length > 0) {
    headers.push(['access-control-expose-headers', cors.exposeHeaders.join(',')]);
  }
  return { ...response, headers };
}
