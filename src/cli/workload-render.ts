/**
 * How `verify --workload` shows its steps: listr2 on a terminal, one plain
 * line per step otherwise, nothing under --json; and the failing step's
 * request and response in full at the end.
 */
import { Listr } from 'listr2';
import type { ProgressEvent } from '../progress/events.js';
import type { StepReport, WorkloadReport } from '../workload/index.js';

type StepEvent = Extract<ProgressEvent, { type: 'workload-step' }>;

const seconds = (ms: number | undefined) =>
  ms === undefined ? '' : ` (${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s)`;

/** The plain line of a finished step. */
export function stepLine(e: StepEvent): string {
  const mark = e.state === 'pass' ? 'ok  ' : e.state === 'fail' ? 'FAIL' : 'skip';
  return `${mark} ${e.step}: ${e.summary ?? e.title}${seconds(e.ms)}`;
}

/**
 * Runs `work` under one listr2 task whose output bar lists each finished
 * step as it ends and names the one running.
 */
export async function withWorkloadList<T>(
  work: (onProgress: (e: ProgressEvent) => void) => Promise<T>,
): Promise<T> {
  let result: T | undefined;
  await new Listr(
    [
      {
        title: "Running nova's workload through the Placement API",
        task: async (_ctx, task) => {
          result = await work((e) => {
            if (e.type === 'step') task.output = e.message;
            if (e.type !== 'workload-step') return;
            if (e.state !== 'start') task.output = stepLine(e);
          });
          task.title = "Ran nova's workload through the Placement API";
        },
        rendererOptions: { outputBar: Infinity, persistentOutput: true },
      },
    ],
    { renderer: 'default', rendererOptions: { collapseSubtasks: false } },
  ).run();
  return result as T;
}

function json(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

/** The failing step, its request and its response, in full. */
export function failureLines(step: StepReport): string[] {
  const f = step.failure!;
  const lines = [`FAILED: ${step.step} (${step.title})`, `  ${f.message}`];
  if (f.expected !== undefined) lines.push(`  expected: ${json(f.expected)}`);
  if (f.actual !== undefined) lines.push(`  actual:   ${json(f.actual)}`);
  if (f.request) {
    const r = f.request;
    lines.push(
      `  request:  ${r.method} ${r.path}${r.microversion ? ` (OpenStack-API-Version: placement ${r.microversion})` : ''}`,
    );
    if (r.body !== undefined)
      lines.push(
        ...json(r.body)
          .split('\n')
          .map((l) => `    ${l}`),
      );
  }
  if (f.response) {
    lines.push(`  response: ${f.response.status}`);
    lines.push(
      ...json(f.response.body)
        .split('\n')
        .map((l) => `    ${l}`),
    );
  }
  return lines;
}

/** The closing lines: one per step, the failure in full, the clean-up. */
export function reportLines(report: WorkloadReport): string[] {
  const lines: string[] = [];
  for (const s of report.steps) if (s.state === 'fail') lines.push(...failureLines(s));
  const c = report.cleanup;
  if (c) {
    lines.push(
      `Removed the run's own ${c.removed.consumers} consumers, ${c.removed.providers} providers and ${c.removed.traits} trait (${report.prefix}…).`,
    );
    for (const l of c.left) lines.push(`  NOT removed: ${l}`);
    if (c.kept.length > 0) {
      lines.push(
        `  Kept by placement, which has no API to remove them (the service had no consumer whose project and user to reuse): the rows of ${c.kept.join(' and ')}.`,
      );
    }
    if (c.changedMeanwhile.length > 0) {
      lines.push(
        `  ${c.changedMeanwhile.length} providers of the service changed during the run (nova writes while it runs; the run itself wrote only to its own).`,
      );
    }
  }
  const passed = report.steps.filter((s) => s.state === 'pass').length;
  lines.push(
    report.ok
      ? `OK: all ${passed} steps passed (${report.requests} requests to ${report.api}).`
      : report.interrupted
        ? `Interrupted after ${passed} steps.`
        : `${report.steps.filter((s) => s.state === 'fail').length} step failed, ${passed} passed, ${report.steps.filter((s) => s.state === 'skip').length} skipped.`,
  );
  return lines;
}
