/**
 * `api serve` against the real placement 8.0.0 as deployments run it
 * (Debian's uwsgi with its python3 plugin, one process per core, Debian's
 * thread count), on one MariaDB database of 10,000 providers: latency
 * (median, p99) and throughput of three read paths nova leans on —
 * GET /resource_providers, a provider's usages, /usages?project_id.
 * Load from a small closed-loop generator on loopback (a new connection
 * per request, as uwsgi's Connection: close imposes), bounded in requests and in time.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/connect.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import {
  realPlacementServiceAvailable,
  startOurApi,
  startRealPlacement,
  type RunningService,
} from '../../test/helpers/api-services.js';
import { ROOT } from '../../test/helpers/cli.js';
import { buildPlacementCloud, type CloudFacts } from '../../test/helpers/placement-cloud.js';
import type { BenchCase, BenchContext, Measurement } from '../case.js';
import { addRatios, closedLoop, type LoadResult } from '../lib/http-load.js';
import {
  dropDatabase,
  recreateDatabase,
  scratchName,
  serverAvailable,
  urlFor,
} from '../lib/servers.js';

interface Endpoint {
  label: string;
  /** Paths cycled through, so caches see many objects. */
  paths: string[];
  /** Requests per run, and clients at once. */
  amount: number;
  connections: number;
}

type EndpointResult = LoadResult;

/** Compute nodes that give about this many providers with the cloud generator's shapes. */
function computeNodesFor(providers: number): number {
  return Math.max(10, Math.round(providers / 1.86));
}

/** `amount` GETs cycling through the endpoint's paths. */
function load(baseUrl: string, e: Endpoint, maxSeconds: number): Promise<EndpointResult> {
  let i = 0;
  return closedLoop(baseUrl, { clients: e.connections, amount: e.amount, maxSeconds }, () => ({
    method: 'GET',
    path: e.paths[i++ % e.paths.length]!,
  }));
}

export class ApiServeCase implements BenchCase {
  name =
    'api serve vs placement 8.0.0 under uwsgi: reads on 10,000 providers (300 with --quick), MariaDB';
  subject = 'placement-upgrade api serve --read-only (one Node process)';
  reference = `placement 8.0.0 under Debian's uwsgi (${cpus().length} processes × 32 threads)`;
  sizeKeys = ['providers'] as const;

  private dbName = '';
  private dbUrl = '';
  private facts?: CloudFacts;
  private ours?: RunningService;
  private theirs?: RunningService;
  private subjectResults = new Map<string, EndpointResult>();

  async available(_ctx: BenchContext): Promise<true | string> {
    if (!realPlacementServiceAvailable()) {
      return 'placement-api, uwsgi-core and uwsgi-plugin-python3 are not installed (scripts/install-system-deps.sh)';
    }
    if (!existsSync(join(ROOT, 'dist', 'commands', 'api', 'serve.js')))
      return 'run npm run build first';
    return serverAvailable('mysql');
  }

  private endpoints(quick: boolean): Endpoint[] {
    const f = this.facts!;
    const step = Math.max(1, Math.floor(f.providers.length / 200));
    const providers = f.providers
      .filter((p, i) => !p.rootless && i % step === 0)
      .map((p) => p.uuid);
    return [
      {
        label: 'GET /resource_providers',
        paths: ['/resource_providers'],
        amount: quick ? 20 : 60,
        connections: 4,
      },
      {
        label: 'GET /resource_providers/{uuid}/usages',
        paths: providers.map((u) => `/resource_providers/${u}/usages`),
        amount: quick ? 500 : 4000,
        connections: 10,
      },
      {
        label: 'GET /usages?project_id',
        paths: f.projects.slice(0, 200).map((p) => `/usages?project_id=${p}`),
        amount: quick ? 500 : 4000,
        connections: 10,
      },
    ];
  }

  async setup(ctx: BenchContext): Promise<void> {
    const providers = ctx.sizes['providers'] ?? (ctx.quick ? 300 : 10000);
    this.dbName = scratchName('api');
    await recreateDatabase('mysql', this.dbName);
    this.dbUrl = urlFor('mysql', this.dbName);
    const db = await openDatabase(parseConnectionUrl(this.dbUrl, 'bench'), { max: 4 });
    try {
      ctx.log(`Building a cloud of about ${providers} providers in ${this.dbName}`);
      this.facts = await buildPlacementCloud(db, {
        computeNodes: computeNodesFor(providers),
        seed: 1,
        anomalies: false,
      });
      ctx.log(
        `${this.facts.providers.length} providers, ${this.facts.consumers.length} consumers, ${this.facts.projects.length} projects`,
      );
    } finally {
      await db.close();
    }
    // Placement starts first: it adds the standard traits and classes, as in production.
    // Debian's placement-api-uwsgi.ini, but one process per core and on loopback; without its
    // rem-header Content-Length (meant for its chunked mode, which this HTTP socket lacks), which
    // would leave the load generator unable to delimit responses.
    this.theirs = await startRealPlacement(this.dbUrl, {
      processes: cpus().length,
      threads: 32,
      extraArgs: [
        '--thunder-lock',
        '--listen',
        '100',
        '--socket-timeout',
        '10',
        '--buffer-size',
        '65535',
        '--add-header',
        'Connection: close',
        '--no-orphans',
      ],
    });
    this.ours = await startOurApi(this.dbUrl, ['--read-only', '--pool-size', '10']);
  }

  private async measure(
    ctx: BenchContext,
    base: string,
    record?: Map<string, EndpointResult>,
  ): Promise<Measurement> {
    const started = performance.now();
    const extra: Record<string, number | string> = {};
    for (const e of this.endpoints(ctx.quick)) {
      const r = await load(base, e, ctx.quick ? 60 : 300);
      record?.set(e.label, r);
      extra[`${e.label} p50 ms`] = r.p50;
      extra[`${e.label} p99 ms`] = r.p99;
      extra[`${e.label} req/s`] = r.rps;
      if (r.errors + r.non2xx > 0) extra[`${e.label} failures`] = r.errors + r.non2xx;
      ctx.log(
        `${e.label}: p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.rps} req/s (${r.requests} requests)`,
      );
    }
    return { ms: Math.round(performance.now() - started), extra };
  }

  async runSubject(ctx: BenchContext): Promise<Measurement> {
    return this.measure(ctx, this.ours!.url, this.subjectResults);
  }

  async runReference(ctx: BenchContext): Promise<Measurement> {
    const m = await this.measure(ctx, this.theirs!.url);
    addRatios(m, this.subjectResults);
    return m;
  }

  async teardown(_ctx: BenchContext): Promise<void> {
    await Promise.allSettled([this.ours?.stop(), this.theirs?.stop()]);
    if (this.dbName) await dropDatabase('mysql', this.dbName).catch(() => undefined);
  }
}

export default new ApiServeCase();
