/**
 * Malformed Placement API requests for the fuzz test, generated from a
 * seeded PRNG (the same seed gives the same requests, so a failure can be
 * replayed): every read route, with path segments, query strings,
 * microversion headers, methods and headers taken from the inputs that
 * break servers — integers beyond every column, NUL and control bytes,
 * invalid UTF-8 escapes, overlong strings, bad uuids, placement's filter
 * syntax half-written. And a sender that reports what came back without
 * ever throwing.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { CloudFacts } from './placement-cloud.js';
import { prng } from './placement-cloud.js';

export interface FuzzRequest {
  method: string;
  /** The request target, already percent-encoded as it goes on the wire. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface FuzzAnswer {
  status: number;
  body: string;
  /** Set when no HTTP answer came (connection reset, timeout). */
  error?: string;
}

/** The test data's generator, with a pick among request generators. */
export function fuzzPrng(seed: number) {
  const rnd = prng(seed);
  return {
    ...rnd,
    /** One of the generators, called. */
    oneOf: (...gens: (() => string)[]): string => gens[Math.floor(rnd.next() * gens.length)]!(),
  };
}

type Rnd = ReturnType<typeof fuzzPrng>;

/** Integers as text: within and beyond INT, BIGINT and a double, and what int() refuses. */
const INTEGERS = [
  '1',
  '2',
  '0',
  '-1',
  '2147483647',
  '2147483648',
  '-2147483648',
  '-2147483649',
  '4294967296',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '99999999999999999999999',
  '-99999999999999999999999',
  '9'.repeat(400),
  '00000000000000000000001',
  '-0',
  '+1',
  '%201%20',
  '1_000',
  '1__0',
  '1e3',
  '1e400',
  '0x10',
  '1.5',
  'NaN',
  'Infinity',
  '-',
  '',
  '%D9%A3',
  '1%00',
];

/** Text that engines, drivers and decoders choke on, percent-encoded. */
const NASTY = [
  '%00',
  'a%00b',
  '%00abc',
  '%01',
  '%1F',
  '%7F',
  '%0A',
  '%0D%0A',
  '%09',
  '%FF',
  '%C3',
  '%C3%28',
  '%C0%AF',
  '%E0%80%80',
  '%ED%A0%80',
  '%ED%BF%BF',
  '%F0%9F%98%80',
  '%F4%90%80%80',
  '%F8%88%80%80%80',
  '%E2%82',
  '%F0%90%80',
  '%C3%A9',
  '%EF%BF%BD',
  '%',
  '%Z',
  '%ZZ',
  '%%',
  '%25',
  '%2F',
  '%2E%2E',
  '..',
  '+',
  '%20',
  '%2B',
  '%3B',
  '%26',
  '%3D',
  "'",
  '%22',
  '%5C',
  '%5C%5C',
  '%27%20OR%201=1--',
  '%25%5F',
  '_',
  '*',
  'NULL',
  'None',
  'null',
  'true',
  '[]',
  '{}',
  'x'.repeat(37),
  'x'.repeat(256),
  'x'.repeat(3000),
  '%00'.repeat(300),
  '%F0%9F%98%80'.repeat(120),
];

const UNKNOWN_UUID = 'a2b0b2fc-9d8e-4e4c-9d7f-5f7e2c1d0b99';

function uuidVariants(rnd: Rnd, uuid: string): string {
  return rnd.pick([
    () => uuid,
    () => uuid.toUpperCase(),
    () => uuid.replace(/-/g, ''),
    () => `%7B${uuid}%7D`,
    () => `urn:uuid:${uuid}`,
    () => uuid.slice(0, 35),
    () => `${uuid}0`,
    () => `${uuid}%00`,
    () => `%00${uuid.slice(1)}`,
    () => uuid.replace(/[0-9a-f]/, 'g'),
    () => uuid.replace(/-/g, '%2D'),
    () => '00000000-0000-0000-0000-000000000000',
    () => UNKNOWN_UUID,
    () => 'not-a-uuid',
    () => '',
    () => `${uuid},${uuid}`,
    () => `${uuid}%20`,
    () => rnd.pick(NASTY),
  ])();
}

/** The pieces requests are made of, drawn from the cloud the server holds. */
function vocabulary(f: CloudFacts) {
  const providers = f.providers.map((p) => p.uuid);
  const classes = ['VCPU', 'MEMORY_MB', 'DISK_GB', 'PCPU', ...f.customClasses, 'vcpu', 'CUSTOM_'];
  const traits = [...f.standardTraitsUsed, ...f.customTraits, 'CUSTOM_NOPE', 'compute_node'];
  const projects = f.projects.length ? f.projects : ['p'];
  return {
    providers: providers.length ? providers : [UNKNOWN_UUID],
    aggregates: f.aggregates.length ? f.aggregates : [UNKNOWN_UUID],
    consumers: [...f.consumers.slice(0, 20), ...f.orphanConsumers, UNKNOWN_UUID],
    classes,
    traits,
    projects,
    users: f.users.length ? f.users : ['u'],
  };
}

type Vocabulary = ReturnType<typeof vocabulary>;

function name(rnd: Rnd, known: readonly string[]): string {
  return rnd.chance(0.5) ? rnd.pick(known) : rnd.pick(NASTY);
}

function list(rnd: Rnd, n: number, item: () => string, sep = ','): string {
  return Array.from({ length: n }, item).join(sep);
}

function resourcesValue(rnd: Rnd, v: Vocabulary): string {
  const one = () =>
    rnd.oneOf(
      () => `${name(rnd, v.classes)}:${rnd.pick(INTEGERS)}`,
      () => `${rnd.pick(v.classes)}:${rnd.pick(INTEGERS)}`,
      () => `${rnd.pick(v.classes)}:${rnd.int(1, 64)}`,
      () => rnd.pick(v.classes),
      () => `${rnd.pick(v.classes)}:`,
      () => `:${rnd.pick(INTEGERS)}`,
      () => `${rnd.pick(v.classes)}:1:2`,
      () => '',
      () => rnd.pick(NASTY),
    );
  return rnd.oneOf(
    one,
    () => list(rnd, rnd.int(2, 4), one),
    () => list(rnd, 60, () => `${rnd.pick(v.classes)}:${rnd.int(1, 9)}`),
    () => `${one()},`,
    () => ',',
  );
}

function memberOfValue(rnd: Rnd, v: Vocabulary): string {
  const agg = () => uuidVariants(rnd, rnd.pick(v.aggregates));
  return rnd.oneOf(
    agg,
    () => `in:${list(rnd, rnd.int(1, 4), agg)}`,
    () => `!${agg()}`,
    () => `!in:${list(rnd, rnd.int(1, 3), agg)}`,
    () =>
      rnd.pick(['in:', '!in:', '!', 'in:,', '!in:,', ',', 'in', '!!', `in:!${v.aggregates[0]}`]),
    () => list(rnd, 2, agg),
    () => `in:${list(rnd, 300, () => rnd.pick(v.aggregates))}`,
  );
}

function requiredValue(rnd: Rnd, v: Vocabulary): string {
  const trait = () => name(rnd, v.traits);
  return rnd.oneOf(
    trait,
    () => `!${trait()}`,
    () => list(rnd, rnd.int(2, 4), () => (rnd.chance(0.3) ? '!' : '') + trait()),
    () => `in:${list(rnd, rnd.int(1, 3), trait)}`,
    () => rnd.pick(['!', '!!', '!!X', 'in:', 'in:!X', 'in:,', ',', 'X,,Y', ' ', '!,!', 'in:in:X']),
    () => list(rnd, 400, () => rnd.pick(v.traits)),
  );
}

/** A query string for a route, with its parameters and their broken forms. */
function queryFor(rnd: Rnd, route: string, v: Vocabulary): string {
  const gens: Record<string, () => string> = {};
  if (route === '/resource_providers') {
    Object.assign(gens, {
      name: () => name(rnd, ['compute-0', ...v.providers]),
      uuid: () => uuidVariants(rnd, rnd.pick(v.providers)),
      member_of: () => memberOfValue(rnd, v),
      resources: () => resourcesValue(rnd, v),
      in_tree: () => uuidVariants(rnd, rnd.pick(v.providers)),
      required: () => requiredValue(rnd, v),
    });
  } else if (route === '/traits') {
    Object.assign(gens, {
      name: () =>
        rnd.oneOf(
          () => `in:${list(rnd, rnd.int(1, 4), () => name(rnd, v.traits))}`,
          () => `startswith:${name(rnd, ['CUSTOM_', 'HW_', '', '%25', '_', '%5C'])}`,
          () => rnd.pick(['in:', 'startswith:', 'in', ':', 'other:x', '']),
          () => `in:${list(rnd, 800, () => rnd.pick(v.traits))}`,
          () => rnd.pick(NASTY),
        ),
      associated: () => rnd.pick(['true', 'false', 'TRUE', 'False', 'yes', '1', '', ...NASTY]),
    });
  } else if (route === '/usages') {
    Object.assign(gens, {
      project_id: () => name(rnd, v.projects),
      user_id: () => name(rnd, v.users),
      consumer_type: () =>
        rnd.pick([
          'INSTANCE',
          'MIGRATION',
          'all',
          'unknown',
          'instance',
          'all%00',
          'allx',
          'unknown%00',
          'ALL',
          '',
          'A'.repeat(256),
          ...NASTY,
        ]),
    });
  }
  const known = Object.keys(gens);
  const junkKey = () =>
    rnd.pick(['foo', '', 'NAME', 'name[]', 'constructor', '__proto__', 'toString', ...NASTY]);
  const params: string[] = [];
  const n = known.length === 0 ? rnd.int(0, 2) : rnd.int(1, 4);
  for (let i = 0; i < n; i++) {
    if (known.length > 0 && rnd.chance(0.85)) {
      const key = rnd.pick(known);
      params.push(`${key}=${gens[key]!()}`);
      if (rnd.chance(0.15)) params.push(`${key}=${gens[key]!()}`);
    } else {
      params.push(rnd.chance(0.2) ? junkKey() : `${junkKey()}=${rnd.pick(NASTY)}`);
    }
  }
  let qs = params.join(rnd.chance(0.1) ? ';' : '&');
  if (rnd.chance(0.05)) qs = rnd.pick(['&', '&&', '=', '==', '&=&', ';;', '%', '?', 'a=b=c']);
  return qs === '' && rnd.chance(0.5) ? '' : `?${qs}`;
}

/** A path on one of the read routes, its segments valid or not, and maybe a query. */
function pathFor(rnd: Rnd, v: Vocabulary): string {
  const rp = () => uuidVariants(rnd, rnd.pick(v.providers));
  const sub = (tail: string) => () => `/resource_providers/${rp()}${tail}`;
  // [path maker, the route whose query parameters it takes]
  const routes: [() => string, string][] = [
    [() => '/', 'other'],
    [() => '/resource_providers', '/resource_providers'],
    [sub(''), 'other'],
    [sub('/inventories'), 'other'],
    [() => `${sub('/inventories/')()}${name(rnd, v.classes)}`, 'other'],
    [sub('/usages'), 'other'],
    [sub('/allocations'), 'other'],
    [sub('/aggregates'), 'other'],
    [sub('/traits'), 'other'],
    [() => '/resource_classes', 'other'],
    [() => `/resource_classes/${name(rnd, v.classes)}`, 'other'],
    [() => '/traits', '/traits'],
    [() => `/traits/${name(rnd, v.traits)}`, 'other'],
    [() => `/allocations/${uuidVariants(rnd, rnd.pick(v.consumers))}`, 'other'],
    [() => '/usages', '/usages'],
    [() => '/allocation_candidates', 'other'],
    [() => '/reshaper', 'other'],
    [
      () =>
        rnd.pick([
          '//',
          '/resource_providers/',
          '//resource_providers',
          '/resource_providers//inventories',
          `/resource_providers/${v.providers[0]}/inventories/`,
          '/./traits',
          '/traits/..',
          '/%2e%2e/traits',
          '/resource_providers%2F',
          `/resource_providers/${v.providers[0]}%2Finventories`,
          `/resource_providers/${'x'.repeat(6000)}`,
          '/%00',
          '/%FF',
          '/RESOURCE_PROVIDERS',
          '*',
          '/resource_providers#frag',
        ]),
      'other',
    ],
  ];
  const [make, queryRoute] = rnd.pick(routes);
  const path = make();
  const withQuery = queryRoute !== 'other' ? rnd.chance(0.95) : rnd.chance(0.2);
  return withQuery ? `${path}${queryFor(rnd, queryRoute, v)}` : path;
}

/** Values for OpenStack-API-Version, well-formed or not (characters node may send). */
function versionHeader(rnd: Rnd): string | undefined {
  return rnd.oneOf(
    () => `placement 1.${rnd.int(0, 39)}`,
    () => 'placement latest',
    () =>
      `placement ${rnd.pick([
        '1.40',
        '1.99999999999999999999',
        '2.0',
        '0.9',
        '-1.5',
        '1.-1',
        '1.',
        '.1',
        '1',
        '1.1.1',
        '1.a',
        '1.%00',
        ' 1.5 ',
        'LATEST',
        'latest ',
        '',
        '\t1.2',
        '1.\u00e9',
        '\u00ff',
        '1_0.1_0',
        '1.0x1',
        '9'.repeat(300),
      ])}`,
    () =>
      rnd.pick([
        'placement',
        'compute 2.1',
        'PLACEMENT 1.20',
        ', , ,',
        'placement 1.2, placement 1.x',
      ]),
    () => '',
  );
}

const METHODS = [
  'GET',
  'GET',
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
];

/** `count` requests, the same for the same seed and cloud. */
export function fuzzRequests(facts: CloudFacts, count: number, seed: number): FuzzRequest[] {
  const rnd = fuzzPrng(seed);
  const v = vocabulary(facts);
  const out: FuzzRequest[] = [];
  for (let i = 0; i < count; i++) {
    // What node's client refuses to put on the wire (space, controls, beyond latin-1) goes encoded.
    const path = pathFor(rnd, v).replace(/[^\x21-\x7e]/gu, (ch) => encodeURIComponent(ch));
    const headers: Record<string, string> = {};
    if (rnd.chance(0.9)) {
      headers['x-auth-token'] = rnd.chance(0.9)
        ? 'admin'
        : rnd.pick(['', 'alice', 'admin:', ':admin', 'x'.repeat(4000), 'admin\u00ff']);
    }
    if (rnd.chance(0.1)) headers['x-roles'] = rnd.pick(['reader', 'admin', '', ',,', 'READER ']);
    if (rnd.chance(0.05)) headers['openstack-system-scope'] = rnd.pick(['all', '', 'none']);
    const version = versionHeader(rnd);
    if (version !== undefined && rnd.chance(0.85)) headers['openstack-api-version'] = version;
    if (rnd.chance(0.1)) {
      headers['accept'] = rnd.pick([
        'text/html',
        'text/plain',
        'application/json;q=0',
        'image/png',
        '*/*;q=x',
        ';;;',
        'application/json, */*; q=0.1',
        '',
      ]);
    }
    const method = rnd.chance(0.8) ? 'GET' : rnd.pick(METHODS);
    let body: string | undefined;
    // A body only under a head Node accepts (16 KiB): beyond it Node answers 431 mid-upload.
    if (rnd.chance(0.06) && path.length < 8000) {
      body = rnd.pick(['{}', '{"name": "x"}', '\u0000', 'not json', 'x'.repeat(70000)]);
      // Framed, so the body is this request's and not the start of a next one.
      headers['content-length'] = String(Buffer.byteLength(body));
      if (rnd.chance(0.7)) {
        headers['content-type'] = rnd.pick([
          'application/json',
          'text/plain',
          'application/json; charset=latin-1',
          '',
        ]);
      }
    }
    out.push({ method, path, headers, ...(body === undefined ? {} : { body }) });
  }
  return out;
}

/**
 * Requests no HTTP client library would send: bytes straight on the wire
 * (raw NUL and control bytes, bare LF, a broken header block). Node's
 * parser answers most of them itself; the server must survive them all.
 */
export const RAW_REQUESTS: readonly Buffer[] = [
  Buffer.from(
    'GET /resource_providers/\u0000abc HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n\r\n',
    'latin1',
  ),
  Buffer.from(
    'GET /resource_providers?name=a\u0000b HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\n\r\n',
    'latin1',
  ),
  Buffer.from('GET /\u00ff HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
  Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ad\u0000min\r\n\r\n', 'latin1'),
  Buffer.from('GET /resource_providers HTTP/1.1\nHost: x\nX-Auth-Token: admin\n\n', 'latin1'),
  Buffer.from(
    'GET /resource_providers HTTP/1.1\r\nHost: x\r\nX-Auth-Token: admin\r\nOpenStack-API-Version: placement \u00011.2\r\n\r\n',
    'latin1',
  ),
  Buffer.from('GET /resource_providers HTTP/9.9\r\nHost: x\r\n\r\n', 'latin1'),
  Buffer.from('\u0000\u0001\u0002\u0003\r\n\r\n', 'latin1'),
  Buffer.from(`GET /${'a'.repeat(70000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'),
  Buffer.from(
    'GET /resource_providers HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'latin1',
  ),
  Buffer.from(
    'GET /resource_providers HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
    'latin1',
  ),
  Buffer.from(
    'GET /resource_providers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'latin1',
  ),
  Buffer.from('get /resource_providers HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
  Buffer.from('FOO /resource_providers HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
];

/** The status line's code of a raw exchange, or 0 when the server closed without one. */
export function sendRaw(base: string, bytes: Buffer, timeoutMs = 10_000): Promise<FuzzAnswer> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let data = '';
    const socket = connect(Number(url.port), url.hostname, () => socket.end(bytes));
    const done = (error?: string) => {
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({
        status: m ? Number(m[1]) : 0,
        body: data.slice(0, 2000),
        ...(error ? { error } : {}),
      });
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', (err) => done(err.message));
    socket.on('close', () => done());
  });
}

/**
 * Sends one request on a fresh connection (so an answer always belongs to
 * its request); never throws (a failure is in `error`).
 */
export function sendFuzz(base: string, r: FuzzRequest, timeoutMs = 10_000): Promise<FuzzAnswer> {
  const url = new URL(base);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (a: FuzzAnswer) => {
      if (!settled) {
        settled = true;
        resolve(a);
      }
    };
    let req;
    try {
      req = request(
        {
          host: url.hostname,
          port: url.port,
          path: r.path,
          method: r.method,
          headers: r.headers,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () =>
            finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', (err) => finish({ status: 0, body: '', error: err.message }));
        },
      );
    } catch (err) {
      // The client refused to send it (an invalid header character, say): not the server's answer.
      finish({ status: -1, body: '', error: (err as Error).message });
      return;
    }
    req.setTimeout(timeoutMs, () => {
      finish({ status: 0, body: '', error: 'timeout' });
      req.destroy();
    });
    req.on('error', (err) => finish({ status: 0, body: '', error: err.message }));
    req.end(r.body);
  });
}
