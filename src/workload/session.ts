/**
 * Where the workload runs. By default on a scratch copy of the target — a
 * temporary SQLite file, or a scratch database the operator names — served
 * by the embedded API in-process, so the production database is never
 * written. With an endpoint, against a live Placement service over HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlacementApi } from '../api/app.js';
import { syncStandardData } from '../api/standard-sync.js';
import { PlacementStore } from '../api/store/index.js';
import { openDatabase, type Database } from '../db/connect.js';
import { parseConnectionUrl } from '../db/url.js';
import { BadUrlError, PlacementUpgradeError } from '../errors/errors.js';
import { ExitCode } from '../errors/exit-codes.js';
import { ignoreProgress, type ProgressListener } from '../progress/events.js';
import { PLACEMENT_TABLES } from '../schema/migrator.js';
import { EmbeddedClient, endpointAuthError, HttpClient } from './client.js';
import { runWorkload, type WorkloadReport } from './index.js';
import { copyToScratch, type ScratchCopy } from './scratch.js';

export interface WorkloadRun {
  sample: number;
  seed: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface ScratchReport extends WorkloadReport {
  scratch: ScratchCopy & { where: string };
}

/** A scratch database must hold no placement table: the copy never overwrites. */
async function refuseNonEmpty(scratch: Database): Promise<void> {
  const tables = await scratch.dialect.listTables(scratch.knex);
  const found = tables.filter((t) => PLACEMENT_TABLES.includes(t) || t === 'alembic_version');
  if (found.length > 0) {
    throw new PlacementUpgradeError(
      'scratch_not_empty',
      ExitCode.TARGET_HAS_OTHER_DATA,
      `The scratch database ${scratch.display} already holds placement tables (${found.join(', ')}); the workload copies into an empty one only.`,
      {
        hint: 'Name an empty database with --scratch (it is written to and can be dropped afterwards), or leave --scratch out to use a temporary SQLite file.',
      },
    );
  }
}

/** Copies `target` to a scratch database and runs the workload there. */
export async function workloadOnScratch(
  target: Database,
  run: WorkloadRun & { scratchUrl?: string },
): Promise<ScratchReport> {
  const progress = run.onProgress ?? ignoreProgress;
  let dir: string | undefined;
  let scratch: Database;
  if (run.scratchUrl) {
    scratch = await openDatabase(parseConnectionUrl(run.scratchUrl, '--scratch'), {
      max: 4,
      mustExist: true,
    });
    try {
      await refuseNonEmpty(scratch);
    } catch (err) {
      await scratch.close();
      throw err;
    }
  } else {
    dir = await mkdtemp(join(tmpdir(), 'placement-upgrade-workload-'));
    scratch = await openDatabase(
      parseConnectionUrl(`sqlite:///${join(dir, 'scratch.sqlite')}`, 'scratch'),
      {
        max: 1,
      },
    );
  }
  try {
    progress({
      type: 'step',
      step: 'scratch',
      message: `copying ${target.display} to ${scratch.display}`,
    });
    const copy = await copyToScratch(target, scratch, progress);
    // As placement does when it starts on a database: the standard traits and classes.
    await syncStandardData(scratch);
    const api = new PlacementApi(new PlacementStore(scratch, {}), { readOnly: false });
    const client = new EmbeddedClient(
      api,
      `the embedded API on a scratch copy (${scratch.display})`,
    );
    const report = await runWorkload({ ...run, client, mode: 'scratch' });
    return {
      ...report,
      scratch: { ...copy, where: dir ? 'a temporary SQLite file, removed' : scratch.display },
    };
  } finally {
    await scratch.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** Checks that `url` is an http(s) URL; exit 7 otherwise. */
export function parseEndpoint(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadUrlError(
      `--endpoint ${JSON.stringify(url)} is not a URL.`,
      "Give the Placement API's URL, e.g. http://controller:8778 or https://cloud.example.com/placement.",
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BadUrlError(
      `--endpoint must be an http or https URL, not ${parsed.protocol.replace(':', '')}.`,
      "Give the Placement API's URL, e.g. http://controller:8778.",
    );
  }
  if (parsed.username || parsed.password) {
    throw new BadUrlError(
      '--endpoint must not carry a user or password.',
      'Give the token with --token or PLACEMENT_UPGRADE_TOKEN.',
    );
  }
  return parsed;
}

/** Runs the workload against a live service, removing its own objects at the end. */
export async function workloadOnEndpoint(
  endpoint: URL,
  token: string | undefined,
  run: WorkloadRun,
): Promise<WorkloadReport> {
  const client = new HttpClient(endpoint, token);
  // One authenticated read first: a refused token is exit 9 with a hint, not a failed step.
  const probe = await client.call('GET', '/resource_providers', { version: '1.14' });
  if (probe.status === 401 || probe.status === 403)
    throw endpointAuthError(client.description, probe.status);
  if (
    probe.status !== 200 ||
    typeof probe.body !== 'object' ||
    probe.body === null ||
    !('resource_providers' in probe.body)
  ) {
    throw new PlacementUpgradeError(
      'endpoint_not_placement',
      ExitCode.CANNOT_CONNECT,
      `${client.description} does not answer as a Placement API (GET /resource_providers: HTTP ${probe.status}).`,
      {
        hint: 'Give the URL nova uses for placement (the "placement" endpoint of the service catalog).',
      },
    );
  }
  return runWorkload({ ...run, client, mode: 'endpoint' });
}
