/**
 * placement.conf's [placement] options of GET /allocation_candidates that
 * placement 8.0.0 has no counterpart to compare with (max_allocation_candidates
 * and allocation_candidates_generation_strategy come from later releases), or
 * whose answer is random (randomize_allocation_candidates): checked on a wide
 * symmetric cloud built through `api serve` itself, on SQLite.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOurApi, type RunningService } from '../helpers/api-services.js';
import { runCli } from '../helpers/cli.js';
import { freshDatabases, type TestDatabase } from '../helpers/databases.js';

const fresh = freshDatabases();
const HEADERS = {
  'x-auth-token': 'admin',
  'openstack-api-version': 'placement 1.39',
  'content-type': 'application/json',
};

async function send(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: HEADERS,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
}

/** Two compute nodes, each with three identical GPU children: nova's mdev layout. */
async function buildWideTrees(base: string): Promise<string[]> {
  const roots: string[] = [];
  for (const r of [1, 2]) {
    const root = (await send(base, 'POST', '/resource_providers', { name: `cn${r}` }))!;
    const rootUuid = root['uuid'] as string;
    roots.push(rootUuid);
    await send(base, 'PUT', `/resource_providers/${rootUuid}/inventories`, {
      resource_provider_generation: root['generation'],
      inventories: { VCPU: { total: 8 } },
    });
    for (const c of [1, 2, 3]) {
      const child = (await send(base, 'POST', '/resource_providers', {
        name: `cn${r}_gpu${c}`,
        parent_provider_uuid: rootUuid,
      }))!;
      await send(base, 'PUT', `/resource_providers/${child['uuid'] as string}/inventories`, {
        resource_provider_generation: child['generation'],
        inventories: { VGPU: { total: 1 } },
      });
    }
  }
  return roots;
}

interface Answer {
  allocation_requests: { allocations: Record<string, unknown> }[];
  provider_summaries: Record<string, { root_provider_uuid: string }>;
}

/** Two GPUs on distinct children of one tree: 3 × 2 ordered pairs per tree. */
const QUERY =
  '/allocation_candidates?resources=VCPU:1&resources1=VGPU:1&resources2=VGPU:1&group_policy=isolate';

async function candidates(base: string, query = QUERY): Promise<Answer> {
  return (await send(base, 'GET', query)) as unknown as Answer;
}

/** The tree (root uuid) each candidate comes from, in answer order. */
function treesOf(a: Answer): string[] {
  return a.allocation_requests.map((r) => {
    const uuid = Object.keys(r.allocations)[0]!;
    return a.provider_summaries[uuid]!.root_provider_uuid;
  });
}

describe('[placement] options of /allocation_candidates (sqlite)', () => {
  let db: TestDatabase;
  let roots: string[];
  const servers: RunningService[] = [];

  /** `api serve` on the cloud with these [placement] options. */
  async function serve(options: Record<string, string>): Promise<RunningService> {
    const dir = mkdtempSync(join(tmpdir(), 'pu-ac-options-'));
    const conf = join(dir, 'placement.conf');
    writeFileSync(
      conf,
      ['[placement]', ...Object.entries(options).map(([k, v]) => `${k} = ${v}`), ''].join('\n'),
    );
    const server = await startOurApi(db.url, ['--placement-config', conf]);
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    db = await fresh('sqlite', 'ac_options');
    const sync = await runCli(['db', 'sync', '--placement-url', db.url]);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    const builder = await serve({});
    roots = await buildWideTrees(builder.url);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('by default generates every combination, in the same order each time', async () => {
    const server = await serve({});
    const first = await candidates(server.url);
    expect(first.allocation_requests).toHaveLength(12);
    expect(new Set(treesOf(first))).toEqual(new Set(roots));
    expect(await candidates(server.url)).toEqual(first);
  });

  it('max_allocation_candidates with depth-first stops inside the first tree', async () => {
    const server = await serve({ max_allocation_candidates: '4' });
    const a = await candidates(server.url);
    expect(a.allocation_requests).toHaveLength(4);
    expect(new Set(treesOf(a)).size).toBe(1);
    // Only the tree the candidates use is summarised.
    const summarised = new Set(
      Object.values(a.provider_summaries).map((s) => s.root_provider_uuid),
    );
    expect(summarised).toEqual(new Set(treesOf(a)));
  });

  it('max_allocation_candidates with breadth-first takes from every tree in turn', async () => {
    const server = await serve({
      max_allocation_candidates: '4',
      allocation_candidates_generation_strategy: 'breadth-first',
    });
    const trees = treesOf(await candidates(server.url));
    expect(trees).toHaveLength(4);
    expect(trees[0]).not.toBe(trees[1]);
    expect(trees.filter((t) => t === roots[0])).toHaveLength(2);
    expect(trees.filter((t) => t === roots[1])).toHaveLength(2);
  });

  it('randomize_allocation_candidates samples a random subset under a limit', async () => {
    const server = await serve({ randomize_allocation_candidates: 'true' });
    const all = await candidates(server.url);
    const everyOne = new Set(all.allocation_requests.map((r) => JSON.stringify(r)));
    expect(everyOne.size).toBe(12);
    const seen = new Set<string>();
    // One in twelve each time: after 40 draws, all the same has a chance of 12 × 12^-40.
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const one = await candidates(server.url, `${QUERY}&limit=1`);
      expect(one.allocation_requests).toHaveLength(1);
      const drawn = JSON.stringify(one.allocation_requests[0]);
      expect(everyOne.has(drawn)).toBe(true);
      seen.add(drawn);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('refuses a strategy it does not know, naming the option', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pu-ac-options-'));
    const conf = join(dir, 'placement.conf');
    writeFileSync(conf, '[placement]\nallocation_candidates_generation_strategy = sideways\n');
    const r = await runCli(['api', 'serve', '--placement-url', db.url, '--placement-config', conf]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /allocation_candidates_generation_strategy must be depth-first or breadth-first/,
    );
  });
});
