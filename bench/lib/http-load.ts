/**
 * A bounded closed-loop HTTP load generator for the API benchmarks:
 * `clients` clients, each sending its next request when the previous one
 * is answered, until `amount` requests or `maxSeconds` have gone by. A new
 * connection per request, as uwsgi's `Connection: close` imposes on every
 * client of the real placement. Each client may build its next request
 * from its previous answer (a write sends the generation it was handed).
 */
import { request } from 'node:http';

export interface LoadRequest {
  method: string;
  path: string;
  body?: string;
}

export interface LoadAnswer {
  status: number;
  body: string;
}

export interface LoadResult {
  p50: number;
  p99: number;
  rps: number;
  errors: number;
  non2xx: number;
  /** 2xx answers that `options.check` refused. */
  invalid: number;
  requests: number;
  /** The first unexpected answer, for the log. */
  firstFailure?: string;
}

const HEADERS = { 'x-auth-token': 'admin', 'openstack-api-version': 'placement 1.39' };

/** One request on a fresh connection. */
export function send(base: URL, r: LoadRequest): Promise<LoadAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...HEADERS };
    if (r.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(r.body));
    }
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path: r.path,
        method: r.method,
        agent: false,
        headers,
        timeout: 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(r.body);
  });
}

/**
 * `next(client, previous)` gives a client's next request; `previous` is its
 * last answer. It may look something up first (untimed: the clock starts
 * when the request is sent).
 */
export async function closedLoop(
  baseUrl: string,
  options: {
    clients: number;
    amount: number;
    maxSeconds: number;
    /** Why a 2xx answer is not the one wanted (untimed), or null when it is. */
    check?: (answer: LoadAnswer) => string | null;
  },
  next: (client: number, previous: LoadAnswer | undefined) => LoadRequest | Promise<LoadRequest>,
): Promise<LoadResult> {
  const base = new URL(baseUrl);
  const latencies: number[] = [];
  let sent = 0;
  let errors = 0;
  let non2xx = 0;
  let invalid = 0;
  let firstFailure: string | undefined;
  const deadline = performance.now() + options.maxSeconds * 1000;
  const started = performance.now();
  const client = async (id: number) => {
    let previous: LoadAnswer | undefined;
    while (sent < options.amount && performance.now() < deadline) {
      sent += 1;
      const r = await next(id, previous);
      const t0 = performance.now();
      try {
        previous = await send(base, r);
        latencies.push(performance.now() - t0);
        if (previous.status < 200 || previous.status >= 300) {
          non2xx += 1;
          firstFailure ??= `${r.method} ${r.path}: ${previous.status} ${previous.body.slice(0, 300)}`;
        } else {
          const why = options.check?.(previous) ?? null;
          if (why !== null) {
            invalid += 1;
            firstFailure ??= `${r.method} ${r.path}: ${why}`;
          }
        }
      } catch (err) {
        errors += 1;
        firstFailure ??= `${r.method} ${r.path}: ${(err as Error).message}`;
        previous = undefined;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, i) => client(i)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length === 0
      ? 0
      : Math.round(
          latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)]! * 10,
        ) / 10;
  return {
    p50: pct(0.5),
    p99: pct(0.99),
    rps: Math.round((latencies.length / elapsed) * 10) / 10,
    errors,
    non2xx,
    invalid,
    requests: latencies.length,
    firstFailure,
  };
}

/**
 * Adds to the reference's measurement the ratios of this run, per endpoint:
 * p50 (reference / subject) and throughput (subject / reference); above 1,
 * api serve is the faster. `suffix` tells apart several subjects measured
 * against one reference (e.g. " (--workers 1)").
 */
export function addRatios(
  reference: { extra?: Record<string, number | string> },
  subject: ReadonlyMap<string, { p50: number; rps: number }>,
  suffix = '',
): void {
  const extra = (reference.extra ??= {});
  for (const [label, ours] of subject) {
    const p50 = extra[`${label} p50 ms`];
    const rps = extra[`${label} req/s`];
    if (typeof p50 === 'number' && ours.p50 > 0)
      extra[`${label} p50 ratio${suffix}`] = Math.round((p50 / ours.p50) * 100) / 100;
    if (typeof rps === 'number' && rps > 0)
      extra[`${label} throughput ratio (ours/theirs)${suffix}`] =
        Math.round((ours.rps / rps) * 100) / 100;
  }
}
