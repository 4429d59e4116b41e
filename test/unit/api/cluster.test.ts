/**
 * The node flags `api serve --workers` forks its workers with: the
 * primary's own, plus a larger young generation unless node was already
 * given a semi-space size, in either spelling, on its command line or in
 * NODE_OPTIONS.
 */
import cluster from 'node:cluster';
import { describe, expect, it } from 'vitest';
import {
  WORKER_SEMI_SPACE_MIB,
  schedulingPolicy,
  workerExecArgv,
} from '../../../src/api/cluster.js';

describe('workerExecArgv', () => {
  it('adds the young generation size to the primary flags', () => {
    expect(workerExecArgv(['--enable-source-maps'], '')).toEqual([
      '--enable-source-maps',
      `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`,
    ]);
    expect(workerExecArgv([], '--max-old-space-size=512')).toEqual([
      `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`,
    ]);
  });

  it('keeps a semi-space size node was given', () => {
    expect(workerExecArgv(['--max-semi-space-size=8'], '')).toEqual(['--max-semi-space-size=8']);
    expect(workerExecArgv(['--max_semi_space_size', '32'], '')).toEqual([
      '--max_semi_space_size',
      '32',
    ]);
    expect(workerExecArgv([], '--max-semi-space-size=16')).toEqual([]);
  });

  it('does not change the array it was given', () => {
    const given = ['--inspect=0'];
    workerExecArgv(given, '');
    expect(given).toEqual(['--inspect=0']);
  });
});

describe('schedulingPolicy', () => {
  it('lets the workers accept their own connections unless node is told rr', () => {
    expect(schedulingPolicy({})).toBe(cluster.SCHED_NONE);
    expect(schedulingPolicy({ NODE_CLUSTER_SCHED_POLICY: 'none' })).toBe(cluster.SCHED_NONE);
    expect(schedulingPolicy({ NODE_CLUSTER_SCHED_POLICY: 'rr' })).toBe(cluster.SCHED_RR);
  });
});
