import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startOurApi } from '../test/helpers/api-services.js';
import { runCli } from '../test/helpers/cli.js';
import { closedLoop, send, type LoadAnswer } from '../bench/lib/http-load.js';
import { recreateDatabase, dropDatabase, scratchName, urlFor } from '../bench/lib/servers.js';

const engine = (process.argv[2] ?? 'mysql') as 'mysql' | 'postgresql';
const N = Number(process.argv[3] ?? 3000);
const cpu = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const inv = (t: number) => ({ VCPU: { total: t, allocation_ratio: 16.0 }, MEMORY_MB: { total: t * 1024, allocation_ratio: 1.5 }, DISK_GB: { total: 100000 } });
const db = scratchName('wl'); await recreateDatabase(engine, db); const url = urlFor(engine, db);
const sync = await runCli(['db', 'sync', '--placement-url', url]); if (sync.code) throw new Error(sync.stderr);
let ours: { url: string; pid: number; stop: () => Promise<void> };
if (process.env.SERVE_CMD) {
  const { spawn } = await import('node:child_process');
  const port = 18000 + Math.floor(Math.random() * 1000);
  const child = spawn('bash', ['-c', `exec ${process.env.SERVE_CMD} --placement-url '${url}' --port ${port} --workers 1 --pool-size 10`], { stdio: 'inherit' });
  for (let i = 0; i < 100; i++) { try { await send(new URL(`http://127.0.0.1:${port}`), { method: 'GET', path: '/' }); break; } catch { await new Promise((r) => setTimeout(r, 200)); } }
  ours = { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: async () => { child.kill('SIGINT'); await new Promise((r) => child.on('exit', r)); } };
} else ours = await startOurApi(url, ['--pool-size', '10', ...(process.argv[4] ? ['--workers', process.argv[4]] : [])]);
const base = new URL(ours.url);
const rps: string[] = [];
for (let i = 0; i < 8; i++) { const u = randomUUID(); await send(base, { method: 'POST', path: '/resource_providers', body: JSON.stringify({ uuid: u, name: 'b' + u }) }); await send(base, { method: 'PUT', path: `/resource_providers/${u}/inventories`, body: JSON.stringify({ resource_provider_generation: 0, inventories: inv(100000) }) }); rps.push(u); }
const gens = new Map<number, number>();
const c0 = cpu(ours.pid); const t0 = performance.now();
const r = await closedLoop(ours.url, { clients: 8, amount: N, maxSeconds: 120 }, async (client: number, prev: LoadAnswer | undefined) => {
  const path = `/resource_providers/${rps[client]}/inventories`;
  if (prev?.status === 200) gens.set(client, JSON.parse(prev.body).resource_provider_generation);
  else gens.set(client, JSON.parse((await send(base, { method: 'GET', path })).body).resource_provider_generation);
  const g = gens.get(client)!;
  return { method: 'PUT', path, body: JSON.stringify({ resource_provider_generation: g, inventories: inv(g % 2 ? 100001 : 100000) }) };
});
const secs = (performance.now() - t0) / 1000;
console.log(engine, `p50 ${r.p50} p99 ${r.p99} rps ${r.rps} fail ${r.errors + r.non2xx} ${r.firstFailure ?? ''}; server cpu ${(cpu(ours.pid) - c0).toFixed(2)} s of ${secs.toFixed(2)} s wall`);
await ours.stop(); await dropDatabase(engine, db);
