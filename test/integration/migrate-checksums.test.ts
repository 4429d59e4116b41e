/**
 * One checksum per table, the same for the same rows wherever they are
 * stored: migrate's verification table, for one source copied into every
 * engine, and for a run interrupted and resumed against a fresh run.
 */
import { describe, expect, it } from 'vitest';
import { generateNovaApi } from '../../src/fixtures/index.js';
import { parseJson, runCli, runWatching } from '../helpers/cli.js';
import { freshDatabases, testEngines } from '../helpers/databases.js';

interface Verified {
  verification: { table: string; equal: boolean; sourceChecksum: string; targetChecksum: string }[];
}

const fresh = freshDatabases();
const engines = testEngines();
const sourceEngine = engines.includes('mysql') ? 'mysql' : engines[0]!;

/** Table → checksum of the target, from a run's --json document. */
function checksums(doc: Verified): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of doc.verification) {
    expect(v.equal, v.table).toBe(true);
    expect(v.targetChecksum, v.table).toBe(v.sourceChecksum);
    out[v.table] = v.targetChecksum;
  }
  return out;
}

describe('table checksums', () => {
  it('are the same on every engine, and for a resumed run as for a fresh one', async () => {
    const source = await fresh(sourceEngine, 'sum_src');
    const db = await source.open();
    try {
      await generateNovaApi(db, {
        release: 'train',
        providers: 30,
        consumers: 1500,
        seed: 8,
        flaws: { caseVariantNames: false },
      });
    } finally {
      await db.close();
    }
    // The row path: its checksum is the engine-independent one (the
    // server-side path, which MySQL into MySQL takes by default, hashes in
    // the server: migrate-server-side.test.ts).
    const apply = (target: { url: string }, ...more: string[]) => [
      'migrate',
      '--source',
      source.url,
      '--target',
      target.url,
      '--apply',
      '--no-fast-path',
      ...more,
    ];

    const byEngine: Record<string, Record<string, string>> = {};
    for (const engine of engines) {
      const target = await fresh(engine, 'sum_dst');
      // Every table of 100 rows or more cut into four key ranges, one per writer.
      const r = await runCli([
        ...apply(target, '--parallel', '4', '--bulk-min-rows', '100'),
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      byEngine[engine] = checksums(parseJson<Verified>(r));
    }
    // Rows loaded into PostgreSQL as COPY text are verified by that text's
    // hash (copy-sha1:…, the same kind as COPY streams'); every checksum of
    // the rows themselves is the same whatever engine holds them.
    const rowHashes = (sums: Record<string, string>) =>
      Object.fromEntries(Object.entries(sums).filter(([, c]) => !c.startsWith('copy-sha1:')));
    const [first, ...others] = Object.values(byEngine).map(rowHashes);
    expect(Object.keys(first!).length).toBeGreaterThan(5);
    for (const other of others) {
      for (const [table, sum] of Object.entries(other)) expect(sum, table).toBe(first![table]);
    }
    if (byEngine['postgresql'])
      expect(byEngine['postgresql']['allocations']).toMatch(/^copy-sha1:[0-9a-f]{40}$/);

    // One writer, interrupted in the middle of allocations, then resumed:
    // whole tables, hashed in other pieces than the sliced runs were.
    const target = await fresh(sourceEngine, 'sum_resumed');
    const killed = await runWatching(
      apply(target, '--batch-size', '25', '--parallel', '1'),
      (l) => l.startsWith('copy allocations'),
      async (child) => {
        // Once a batch of allocations is committed: the kill lands mid-table.
        const t = await target.open();
        try {
          for (let i = 0; i < 600; i++) {
            const [row] = t.dialect.rows<{ n: number | string }>(
              await t.knex.raw('SELECT COUNT(*) AS n FROM allocations'),
            );
            if (Number(row?.n) > 0) break;
            await new Promise((r) => setTimeout(r, 25));
          }
        } finally {
          await t.close();
        }
        child.kill('SIGKILL');
      },
    );
    expect(killed.signal, killed.lines.join('\n')).toBe('SIGKILL');
    const resumed = await runCli([...apply(target, '--parallel', '1'), '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const doc = parseJson<Verified & { copied: { table: string; resumedAfter: string | null }[] }>(
      resumed,
    );
    // Killed before the copy of allocations ended, or this tests nothing.
    expect(doc.copied.find((c) => c.table === 'allocations')?.resumedAfter).toMatch(/^id=\d+$/);
    expect(checksums(doc)).toEqual(byEngine[sourceEngine]);
  });
});
