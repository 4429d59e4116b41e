/**
 * Writes through `api serve` beside placement 8.0.0 under uwsgi, on one
 * MariaDB database they share (as two placement services of one cloud
 * would): latency (median, p99) and throughput of the writes nova's
 * compute and scheduler make all day —
 *  - PUT a provider's inventories (the resource tracker's periodic update),
 *    sending the generation the previous answer gave;
 *  - PUT /allocations/{consumer} for a new instance (the scheduler's claim);
 *  - POST /allocations of 10 new consumers in one request.
 * Each client owns one provider, so the figures are the cost of a write,
 * not of generation conflicts. Every answer must be a 2xx: failures are
 * counted and printed. Each side writes to providers of its own.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  realPlacementServiceAvailable,
  startOurApi,
  startRealPlacement,
  type RunningService,
} from '../../test/helpers/api-services.js';
import { ROOT, runCli } from '../../test/helpers/cli.js';
import type { BenchCase, BenchContext, Measurement } from '../case.js';
import {
  addRatios,
  closedLoop,
  send,
  type LoadAnswer,
  type LoadRequest,
} from '../lib/http-load.js';
import {
  dropDatabase,
  recreateDatabase,
  scratchName,
  serverAvailable,
  urlFor,
} from '../lib/servers.js';

const CLIENTS = 8;
const PROJECT = randomUUID();
const USER = randomUUID();

interface Workload {
  label: string;
  amount: number;
  next(
    base: URL,
    providers: string[],
  ): (client: number, previous: LoadAnswer | undefined) => LoadRequest | Promise<LoadRequest>;
}

/** Inventory big enough that no claim of the benchmark ever runs out. */
function inventories(total: number) {
  return {
    VCPU: { total, allocation_ratio: 16.0 },
    MEMORY_MB: { total: total * 1024, allocation_ratio: 1.5 },
    DISK_GB: { total: 100000 },
  };
}

const claim = (rp: string) => ({ [rp]: { resources: { VCPU: 1, MEMORY_MB: 64 } } });

const WORKLOADS: Workload[] = [
  {
    label: 'PUT /resource_providers/{uuid}/inventories',
    amount: 2000,
    next: (base, providers) => {
      const generations = new Map<number, number>();
      return async (client, previous) => {
        const path = `/resource_providers/${providers[client]}/inventories`;
        if (previous?.status === 200) {
          const body = JSON.parse(previous.body) as { resource_provider_generation: number };
          generations.set(client, body.resource_provider_generation);
        } else {
          // First request, or the last one failed: ask for the generation (claims move it too).
          const current = await send(base, { method: 'GET', path });
          const body = JSON.parse(current.body) as { resource_provider_generation: number };
          generations.set(client, body.resource_provider_generation);
        }
        const generation = generations.get(client)!;
        return {
          method: 'PUT',
          path,
          // Alternate the total so every request changes the row.
          body: JSON.stringify({
            resource_provider_generation: generation,
            inventories: inventories(generation % 2 === 0 ? 100000 : 100001),
          }),
        };
      };
    },
  },
  {
    label: 'PUT /allocations/{consumer}',
    amount: 2000,
    next: (_base, providers) => (client) => ({
      method: 'PUT',
      path: `/allocations/${randomUUID()}`,
      body: JSON.stringify({
        allocations: claim(providers[client]!),
        project_id: PROJECT,
        user_id: USER,
        consumer_generation: null,
        consumer_type: 'INSTANCE',
      }),
    }),
  },
  {
    label: 'POST /allocations (10 consumers)',
    amount: 500,
    next: (_base, providers) => (client) => {
      const body: Record<string, unknown> = {};
      for (let i = 0; i < 10; i++) {
        body[randomUUID()] = {
          allocations: claim(providers[client]!),
          project_id: PROJECT,
          user_id: USER,
          consumer_generation: null,
          consumer_type: 'INSTANCE',
        };
      }
      return { method: 'POST', path: '/allocations', body: JSON.stringify(body) };
    },
  },
];

export class ApiWritesCase implements BenchCase {
  name = 'api serve vs placement 8.0.0 under uwsgi: writes (inventories, claims), MariaDB';
  subject = 'placement-upgrade api serve (one Node process)';
  reference = `placement 8.0.0 under Debian's uwsgi (${cpus().length} processes × 32 threads)`;

  private dbName = '';
  private ours?: RunningService;
  private theirs?: RunningService;
  private providers = new Map<string, string[]>();
  private subjectResults = new Map<string, { p50: number; rps: number }>();

  async available(_ctx: BenchContext): Promise<true | string> {
    if (!realPlacementServiceAvailable()) {
      return 'placement-api, uwsgi-core and uwsgi-plugin-python3 are not installed (scripts/install-system-deps.sh)';
    }
    if (!existsSync(join(ROOT, 'dist', 'commands', 'api', 'serve.js')))
      return 'run npm run build first';
    return serverAvailable('mysql');
  }

  /** A provider with inventory for each client, made through the service it is for. */
  private async makeProviders(service: RunningService, side: string): Promise<void> {
    const base = new URL(service.url);
    const uuids: string[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const uuid = randomUUID();
      const created = await send(base, {
        method: 'POST',
        path: '/resource_providers',
        body: JSON.stringify({ uuid, name: `bench-${side}-${i}-${uuid.slice(0, 8)}` }),
      });
      const put = await send(base, {
        method: 'PUT',
        path: `/resource_providers/${uuid}/inventories`,
        body: JSON.stringify({ resource_provider_generation: 0, inventories: inventories(100000) }),
      });
      if (created.status !== 200 || put.status !== 200) {
        throw new Error(
          `${side}: could not create a provider with inventory (${created.status} ${created.body.slice(0, 200)}; ${put.status} ${put.body.slice(0, 200)})`,
        );
      }
      uuids.push(uuid);
    }
    this.providers.set(side, uuids);
  }

  async setup(ctx: BenchContext): Promise<void> {
    this.dbName = scratchName('apiw');
    await recreateDatabase('mysql', this.dbName);
    const url = urlFor('mysql', this.dbName);
    // placement needs its schema made beforehand, as placement-manage db sync would.
    const sync = await runCli(['db', 'sync', '--placement-url', url]);
    if (sync.code !== 0) throw new Error(`db sync failed: ${sync.stderr}`);
    this.theirs = await startRealPlacement(url, {
      processes: cpus().length,
      threads: 32,
      extraArgs: ['--thunder-lock', '--listen', '100', '--add-header', 'Connection: close'],
    });
    this.ours = await startOurApi(url, ['--pool-size', '10']);
    await this.makeProviders(this.theirs, 'theirs');
    await this.makeProviders(this.ours, 'ours');
    ctx.log(`${CLIENTS} providers per side in ${this.dbName}`);
  }

  private async measure(
    ctx: BenchContext,
    service: RunningService,
    side: string,
  ): Promise<Measurement> {
    const started = performance.now();
    const extra: Record<string, number | string> = {};
    for (const w of WORKLOADS) {
      const amount = ctx.quick ? Math.ceil(w.amount / 20) : w.amount;
      const r = await closedLoop(
        service.url,
        { clients: CLIENTS, amount, maxSeconds: ctx.quick ? 60 : 300 },
        w.next(new URL(service.url), this.providers.get(side)!),
      );
      extra[`${w.label} p50 ms`] = r.p50;
      extra[`${w.label} p99 ms`] = r.p99;
      extra[`${w.label} req/s`] = r.rps;
      if (r.errors + r.non2xx > 0) {
        extra[`${w.label} failures`] = r.errors + r.non2xx;
        ctx.log(`${side}: ${w.label}: ${r.errors + r.non2xx} failed, first: ${r.firstFailure}`);
      }
      if (side === 'ours') this.subjectResults.set(w.label, r);
      ctx.log(`${side}: ${w.label}: p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.rps} req/s`);
    }
    return { ms: Math.round(performance.now() - started), extra };
  }

  async runSubject(ctx: BenchContext): Promise<Measurement> {
    return this.measure(ctx, this.ours!, 'ours');
  }

  async runReference(ctx: BenchContext): Promise<Measurement> {
    const m = await this.measure(ctx, this.theirs!, 'theirs');
    addRatios(m, this.subjectResults);
    return m;
  }

  async teardown(_ctx: BenchContext): Promise<void> {
    await Promise.allSettled([this.ours?.stop(), this.theirs?.stop()]);
    if (this.dbName) await dropDatabase('mysql', this.dbName).catch(() => undefined);
  }
}

export default new ApiWritesCase();
