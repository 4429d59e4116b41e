/**
 * On a real three-node MariaDB Galera cluster (scripts/galera-cluster.sh,
 * which CI starts): db sync from every node at once, migrate across nodes,
 * a node outside the Primary Component, and the cluster-wide schema lock
 * of a run that died. CI sets PU_REQUIRE_GALERA=1: no cluster fails there.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.js';
import { CLUSTER_LOCK_TABLE } from '../../src/db/dialect/galera.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { generateNovaApi } from '../../src/fixtures/index.js';
import { HEAD, INITIAL_REVISION } from '../../src/migrations/index.js';
import { migrateArgs, parseJson, runCli, runWatching } from '../helpers/cli.js';
import { galeraCluster, type GaleraCluster } from '../helpers/galera.js';
import { loadReference } from '../helpers/reference-schema.js';
import { ADMIN_URLS } from '../helpers/servers.js';
import { tableDigests } from '../helpers/table-digest.js';

const found = await galeraCluster();
const required = process.env['PU_REQUIRE_GALERA'] === '1';
if (typeof found === 'string') {
  process.stderr.write(
    `\n!! ${found} — the Galera suite is ${required ? 'REQUIRED (PU_REQUIRE_GALERA=1): failing' : 'skipped'}\n`,
  );
}

describe.skipIf(typeof found === 'string' && !required)('on a three-node Galera cluster', () => {
  let cluster: GaleraCluster;
  const made: string[] = [];

  beforeAll(() => {
    if (typeof found === 'string') throw new Error(found);
    cluster = found;
  });
  afterAll(async () => {
    if (!cluster) return;
    const db = await cluster.open(1);
    try {
      for (const name of made) await db.knex.raw(`DROP DATABASE IF EXISTS \`${name}\``);
    } finally {
      await db.close();
    }
  });

  /** A new empty database, created on node 1 and present on every node before it is returned. */
  async function fresh(prefix: string): Promise<string> {
    const name = `pu_galera_${prefix}_${randomBytes(3).toString('hex')}`;
    made.push(name);
    const db = await cluster.open(1);
    try {
      await db.knex.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    } finally {
      await db.close();
    }
    for (const n of [2, 3]) {
      const other = await cluster.open(n);
      try {
        // A causal read waits until this node has applied the CREATE; a node
        // that has just rejoined may still be catching up, so ask again.
        await other.knex.raw('SET SESSION wsrep_sync_wait = 1');
        const deadline = Date.now() + 30_000;
        for (;;) {
          const rows = other.dialect.rows<unknown>(
            await other.knex.raw('SHOW DATABASES LIKE ?', [name]),
          );
          if (rows.length === 1) break;
          if (Date.now() > deadline) throw new Error(`${name} never appeared on node ${n}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await other.close();
      }
    }
    return name;
  }

  /** db sync to head on node 2. */
  async function db_sync(database: string): Promise<void> {
    const r = await runCli(['db', 'sync', '--placement-url', cluster.url(2, database)]);
    expect(r.code, r.stderr).toBe(0);
  }

  async function tablesOn(n: number, database: string): Promise<string[]> {
    const db = await cluster.open(n, database);
    try {
      await db.knex.raw('SET SESSION wsrep_sync_wait = 1');
      return await db.dialect.listTables(db.knex);
    } finally {
      await db.close();
    }
  }

  it.each([
    ['an empty database', null],
    ['the initial revision', INITIAL_REVISION],
  ])(
    'three db syncs at once from three nodes, from %s, ten rounds: every run exits 0, one applies, the schema is placement’s',
    async (_label, from) => {
      const reference = loadReference('mysql')[HEAD];
      for (let round = 1; round <= 10; round++) {
        const name = await fresh('sync');
        if (from) {
          const first = await runCli([
            'db',
            'sync',
            '--revision',
            from,
            '--placement-url',
            cluster.url(1, name),
          ]);
          expect(first.code, first.stderr).toBe(0);
        }
        const runs = await Promise.all(
          [1, 2, 3].map((n) => runCli(['db', 'sync', '--placement-url', cluster.url(n, name)])),
        );
        for (const r of runs) expect(r.code, `round ${round}: ${r.stdout}\n${r.stderr}`).toBe(0);
        // Exactly one run applied the revisions; the others found them applied.
        expect(
          runs.filter((r) => `${r.stdout}${r.stderr}`.includes('Applying ')),
          `round ${round}`,
        ).toHaveLength(1);
        for (const n of [1, 2, 3]) {
          const db = await cluster.open(n, name);
          try {
            await db.knex.raw('SET SESSION wsrep_sync_wait = 1');
            expect(await db.dialect.introspect(db.knex), `node ${n}, round ${round}`).toEqual(
              reference,
            );
          } finally {
            await db.close();
          }
        }
        expect(await tablesOn(3, name)).not.toContain(CLUSTER_LOCK_TABLE);
      }
    },
  );

  it('the schema lock of a run that died is taken over; a live holder makes others wait, then exit 14', async () => {
    const name = await fresh('lock');
    const db = await cluster.open(1, name);
    const lockTable = (age: number) =>
      db.knex.raw(
        `INSERT INTO ${CLUSTER_LOCK_TABLE} (id, holder, node, taken_at, heartbeat_at)
         VALUES (1, 'deadhost pid 4242 (test)', 'node1', NOW(6), NOW(6) - INTERVAL ? SECOND)`,
        [age],
      );
    try {
      await db.knex.raw(
        `CREATE TABLE ${CLUSTER_LOCK_TABLE} (id INT NOT NULL PRIMARY KEY, holder VARCHAR(255) NOT NULL,
           node VARCHAR(255) NOT NULL, taken_at DATETIME(6) NOT NULL, heartbeat_at DATETIME(6) NOT NULL)`,
      );
      // A holder silent for a minute: it died (kill -9 leaves exactly this).
      await lockTable(60);
      const taken = await runCli(['db', 'sync', '--placement-url', cluster.url(2, name)]);
      expect(taken.code, taken.stderr).toBe(0);
      expect(taken.stdout + taken.stderr).toContain(
        "Took over the cluster's schema lock from deadhost pid 4242 (test) on node1",
      );
      expect(await tablesOn(3, name)).not.toContain(CLUSTER_LOCK_TABLE);

      // A holder that said it was alive just now: the run waits, then gives up.
      await db.knex.raw(
        `CREATE TABLE ${CLUSTER_LOCK_TABLE} (id INT NOT NULL PRIMARY KEY, holder VARCHAR(255) NOT NULL,
           node VARCHAR(255) NOT NULL, taken_at DATETIME(6) NOT NULL, heartbeat_at DATETIME(6) NOT NULL)`,
      );
      await lockTable(0);
      const waited = await runCli([
        'db',
        'sync',
        '--lock-timeout',
        '2',
        '--placement-url',
        cluster.url(3, name),
      ]);
      expect(waited.code, waited.stderr).toBe(14);
      expect(waited.stdout + waited.stderr).toContain("Waiting for another run's schema lock");
      expect(waited.stderr).toContain('deadhost pid 4242 (test), on node node1');
      await db.knex.raw(`DROP TABLE ${CLUSTER_LOCK_TABLE}`);
    } finally {
      await db.close();
    }
  });

  it('migrate from nova_api on node 1 into placement on node 2; verify and upgrade check agree on every node', async () => {
    const source = await fresh('nova');
    const target = await fresh('placement');
    const nova = await cluster.open(1, source);
    try {
      await generateNovaApi(nova, {
        release: 'rocky',
        providers: 40,
        consumers: 600,
        seed: 14,
        flaws: { caseVariantNames: false },
      });
    } finally {
      await nova.close();
    }
    const migrated = await runCli(
      migrateArgs(cluster.url(1, source), cluster.url(2, target), '--apply'),
    );
    expect(migrated.code, migrated.stderr).toBe(0);
    // Two nodes of one cluster: proved by its state uuid (named locks are per node).
    expect(migrated.stdout).toMatch(
      /Copy path: inside the server — the source and the target are on the same Galera cluster \([0-9a-f-]{36}\)/,
    );
    const verified = await runCli([
      'verify',
      '--source',
      cluster.url(3, source),
      '--target',
      cluster.url(3, target),
    ]);
    expect(verified.code, `${verified.stdout}\n${verified.stderr}`).toBe(0);

    const digests = [];
    for (const n of [1, 2, 3]) {
      const db = await cluster.open(n, target);
      try {
        await db.knex.raw('SET SESSION wsrep_sync_wait = 1');
        digests.push(await tableDigests(db));
      } finally {
        await db.close();
      }
    }
    expect(digests[1]).toEqual(digests[0]);
    expect(digests[2]).toEqual(digests[0]);

    const checks = await Promise.all(
      [1, 2, 3].map((n) =>
        runCli(['upgrade', 'check', '--json', '--placement-url', cluster.url(n, target)]),
      ),
    );
    const answers = checks.map((c) => ({ code: c.code, json: parseJson(c) }));
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  /** A Queens nova_api on node 1, big enough that its allocations take many batches of 25. */
  async function interruptibleSource(): Promise<string> {
    const source = await fresh('nova');
    const nova = await cluster.open(1, source);
    try {
      await generateNovaApi(nova, {
        release: 'queens',
        providers: 30,
        consumers: 1500,
        seed: 21,
        flaws: { caseVariantNames: false },
      });
    } finally {
      await nova.close();
    }
    return source;
  }

  const applyArgs = (source: string, target: string, node: number) => [
    ...migrateArgs(cluster.url(1, source), cluster.url(node, target), '--apply'),
    '--batch-size',
    '25',
  ];

  /** The target's table digests on every node (after each has applied everything). */
  async function digestsEverywhere(target: string): Promise<Record<string, string>[]> {
    const out = [];
    for (const n of [1, 2, 3]) {
      const db = await cluster.open(n, target);
      try {
        await db.knex.raw('SET SESSION wsrep_sync_wait = 1');
        out.push(await tableDigests(db));
      } finally {
        await db.close();
      }
    }
    return out;
  }

  /**
   * Node `n` lists every table node 1 lists in `database` (causal reads), within 60 s: a node that
   * has just rejoined by SST may still be applying. A table that never appears fails the test with
   * what the node said and its error log.
   */
  async function waitForTables(n: number, database: string): Promise<void> {
    const expected = (await tablesOn(1, database)).sort();
    const deadline = Date.now() + 60_000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = (await tablesOn(n, database)).sort();
      if (seen.join() === expected.join()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(
      seen,
      `node ${n}'s tables of ${database}; its error log:\n${cluster.errorLog(n)}`,
    ).toEqual(expected);
  }

  async function expectVerifiedEverywhere(source: string, target: string): Promise<void> {
    await waitForTables(3, target);
    const verified = await runCli([
      'verify',
      '--source',
      cluster.url(1, source),
      '--target',
      cluster.url(3, target),
    ]);
    expect(
      verified.code,
      `${verified.stdout}\n${verified.stderr}\nnode 3's error log:\n${cluster.errorLog(3)}`,
    ).toBe(0);
    const [a, b, c] = await digestsEverywhere(target);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  }

  it('the target node killed (-9) during the copy: exit 5; it rejoins, and the run resumes on another node', async () => {
    const source = await interruptibleSource();
    const target = await fresh('placement');
    const killed = await runWatching(
      applyArgs(source, target, 2),
      (l) => l.startsWith('copy allocations'),
      () => cluster.fault('kill', 2),
    );
    expect(killed.actError).toBeNull();
    // 0 would mean the copy ended before the kill landed: another test, not this one.
    expect(killed.code, killed.lines.join('\n')).toBe(5);
    expect(killed.lines.join('\n')).not.toContain('This is a bug');
    await cluster.fault('start-node', 2);
    const resumed = await runCli(applyArgs(source, target, 3));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout + resumed.stderr).toMatch(/resum/i);
    await expectVerifiedEverywhere(source, target);
  });

  it('another node killed (-9) during the copy: the copy goes on, and the node catches up when it rejoins', async () => {
    const source = await interruptibleSource();
    const target = await fresh('placement');
    const run = await runWatching(
      applyArgs(source, target, 2),
      (l) => l.startsWith('copy allocations'),
      () => cluster.fault('kill', 3),
    );
    expect(run.actError).toBeNull();
    try {
      expect(run.code, run.lines.join('\n')).toBe(0);
    } finally {
      await cluster.fault('start-node', 3);
    }
    await expectVerifiedEverywhere(source, target);
  });

  it.each([
    ['inside the server', []],
    ['through placement-upgrade (--no-fast-path)', ['--no-fast-path']],
  ])(
    'the target node outside the Primary Component for a while during the copy %s: the batch is written again until it is back',
    async (_path, extra: string[]) => {
      const source = await interruptibleSource();
      const target = await fresh('placement');
      const sync = await runCli([
        'db',
        'sync',
        '--revision',
        INITIAL_REVISION,
        '--placement-url',
        cluster.url(2, target),
      ]);
      expect(sync.code, sync.stderr).toBe(0);
      const nova = await cluster.open(1, source);
      const [last] = nova.dialect.rows<{ id: number }>(
        await nova.knex.raw('SELECT MAX(id) AS id FROM allocations'),
      );
      await nova.close();
      // Hold the key of the source's last allocation on the target: the copy's
      // batch that carries it waits on that row until the hold ends.
      const hold = await cluster.open(2, target);
      await hold.knex.raw('START TRANSACTION');
      await hold.knex.raw(
        "INSERT INTO allocations (id, resource_provider_id, consumer_id, resource_class_id, used) VALUES (?, 1, 'held', 0, 1)",
        [last!.id],
      );
      let isolated = false;
      let retried = false;
      try {
        const run = await runWatching(
          [...applyArgs(source, target, 2), ...extra],
          (l) => l.startsWith('copy allocations'),
          async () => {
            await waitForBlockedInsert(target);
            await cluster.fault('isolate', 2);
            isolated = true;
            await cluster.waitForStatus(2, 'non-Primary');
            // Outside the Primary Component even ROLLBACK is refused: ending the
            // session rolls the hold back.
            await hold.close();
          },
          (line) => {
            if (
              !retried &&
              isolated &&
              /(writing|copying) the batch of (up to )?\d+ rows again/.test(line)
            ) {
              retried = true;
              void cluster.fault('rejoin', 2);
            }
          },
        );
        expect(run.actError).toBeNull();
        expect(retried, run.lines.join('\n')).toBe(true);
        expect(run.code, run.lines.join('\n')).toBe(0);
      } finally {
        await hold.close();
        if (isolated) await cluster.fault('rejoin', 2).catch(() => undefined);
      }
      await cluster.waitForStatus(2, 'Primary');
      await expectVerifiedEverywhere(source, target);
    },
  );

  /** Resolves once node 2 shows the copy's INSERT into allocations waiting on the held row. */
  async function waitForBlockedInsert(database: string): Promise<void> {
    const admin = await cluster.open(2);
    try {
      for (let i = 0; i < 600; i++) {
        const rows = admin.dialect.rows<{ q: string | null }>(
          await admin.knex.raw(
            "SELECT INFO AS q FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query' AND ID <> CONNECTION_ID()",
            [database],
          ),
        );
        if (rows.some((r) => /^\s*INSERT INTO\s+`?allocations\b/i.test(r.q ?? ''))) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the copy never reached the held allocation');
    } finally {
      await admin.close();
    }
  }

  it('write sets of at most 1,000 rows and 256 KiB: migrate and the online data migrations fit their writes to them', async () => {
    const source = await fresh('nova');
    const target = await fresh('placement');
    const nova = await cluster.open(1, source);
    try {
      // Ocata: no consumers table, so every instance's allocations need a consumers row.
      const summary = await generateNovaApi(nova, {
        release: 'ocata',
        providers: 30,
        consumers: 1600,
        seed: 21,
        flaws: { caseVariantNames: false },
      });
      expect(summary.tables['allocations']).toBeGreaterThan(3000);
    } finally {
      await nova.close();
    }
    const node2 = await cluster.open(2, target);
    try {
      await node2.knex.raw('SET GLOBAL wsrep_max_ws_rows = 1000');
      await node2.knex.raw('SET GLOBAL wsrep_max_ws_size = 262144');
      // The limits bite: one statement of 1,200 rows is refused.
      await node2.knex.raw('CREATE TABLE probe (id INT PRIMARY KEY)');
      const values = Array.from({ length: 1200 }, (_, i) => `(${i})`).join(',');
      await expect(node2.knex.raw(`INSERT INTO probe VALUES ${values}`)).rejects.toMatchObject({
        errno: expect.any(Number),
      });
      await node2.knex.raw('DROP TABLE probe');

      const migrated = await runCli(
        migrateArgs(
          cluster.url(1, source),
          cluster.url(2, target),
          '--apply',
          '--revision',
          INITIAL_REVISION,
        ),
      );
      expect(migrated.code, migrated.stderr).toBe(0);
      expect(migrated.stdout + migrated.stderr).toContain(
        'whose write sets hold at most 1,000 rows and 256 KiB',
      );
      const odm = await runCli([
        'db',
        'online-data-migrations',
        '--max-count',
        '5000',
        '--placement-url',
        cluster.url(2, target),
      ]);
      // placement-manage's code for a limited run that migrated rows: 1, "more may remain".
      expect(odm.code, `${odm.stdout}\n${odm.stderr}`).toBe(1);
      expect(odm.stdout + odm.stderr).toContain('several transactions of up to 990 rows');
      const again = await runCli([
        'db',
        'online-data-migrations',
        '--placement-url',
        cluster.url(2, target),
      ]);
      expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
      const [row] = node2.dialect.rows<{ missing: number | string }>(
        await node2.knex.raw(
          'SELECT COUNT(*) AS missing FROM allocations a LEFT JOIN consumers c ON c.uuid = a.consumer_id WHERE c.id IS NULL',
        ),
      );
      expect(Number(row?.missing)).toBe(0);
      await db_sync(target);

      // And the whole migration as a playbook runs it, default flags: copy,
      // online data migrations, schema upgrade, all under the same limits.
      const whole = await fresh('placement');
      const all = await runCli(
        migrateArgs(cluster.url(1, source), cluster.url(2, whole), '--apply'),
      );
      expect(all.code, all.stderr).toBe(0);
    } finally {
      await node2.knex.raw('SET GLOBAL wsrep_max_ws_rows = 0');
      await node2.knex.raw('SET GLOBAL wsrep_max_ws_size = 2147483647');
      await node2.close();
    }
  });

  it('connections of the commands read causally on a Galera node, and only there; api serve reads as placement does', async () => {
    const syncWait = async (url: string, causalReads?: boolean) => {
      const db = await openDatabase(parseConnectionUrl(url, 'test'), { max: 1, causalReads });
      try {
        const [row] = db.dialect.rows<{ w: number | string }>(
          await db.knex.raw('SELECT @@SESSION.wsrep_sync_wait AS w'),
        );
        return Number(row?.w);
      } finally {
        await db.close();
      }
    };
    expect(await syncWait(cluster.url(2, 'mysql'))).toBe(1);
    expect(await syncWait(cluster.url(2, 'mysql'), false)).toBe(0);
    // The machine's own MariaDB has no wsrep on: left as it is.
    expect(await syncWait(ADMIN_URLS.mysql)).toBe(0);
  });

  it('a node outside the Primary Component: db sync there exits 28 naming the node and its state, and succeeds once it rejoins', async () => {
    const name = await fresh('nonprim');
    await cluster.fault('isolate', 3);
    try {
      await cluster.waitForStatus(3, 'non-Primary');
      const refused = await runCli([
        'db',
        'sync',
        '--json',
        '--placement-url',
        cluster.url(3, name),
      ]);
      expect(refused.code, refused.stderr).toBe(28);
      const error = parseJson<{ error: { code: string; message: string; hint: string } }>(
        refused,
      ).error;
      expect(error.code).toBe('galera_not_primary');
      expect(error.message).toContain('127.0.0.1:' + String(cluster.ports[2]));
      expect(error.message).toContain('node node3: cluster status non-Primary');
      expect(error.hint).toContain('Primary');
      expect(refused.stderr).not.toContain('This is a bug');
      // Every command says the same, each with its own family's code.
      const url = cluster.url(3, name);
      for (const [args, code] of [
        [['db', 'version', '--placement-url', url], 28],
        [['db', 'online-data-migrations', '--placement-url', url], 28],
        [['verify', '--target', url], 28],
        // placement-status's "the checks could not run".
        [['upgrade', 'check', '--placement-url', url], 255],
      ] as const) {
        const r = await runCli([...args, '--json']);
        expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(code);
        expect(parseJson<{ error: { code: string } }>(r).error.code, args.join(' ')).toBe(
          'galera_not_primary',
        );
      }
    } finally {
      await cluster.fault('rejoin', 3);
    }
    const synced = await runCli(['db', 'sync', '--placement-url', cluster.url(3, name)]);
    expect(synced.code, synced.stderr).toBe(0);
  });
});
