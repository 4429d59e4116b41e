/**
 * On a live service, the run removes what it created — its consumers'
 * allocations (placement then deletes the consumers), its providers
 * children first, its trait — also after a failed step or Ctrl-C, and
 * then checks through the API that none of it is left and that every
 * provider that was there before has the generation it had.
 */
import type { NovaPlacement, ProviderRef } from '../placement.js';
import type { Ledger } from '../context.js';

export interface CleanupReport {
  removed: { consumers: number; providers: number; traits: number };
  /** What could not be removed, with why: the operator must remove these. */
  left: string[];
  /** Providers of before the run whose generation differs now (written by someone else meanwhile). */
  changedMeanwhile: string[];
  /**
   * Rows placement keeps and has no API to remove: the project and user of
   * the run's consumers when the service had no consumer to borrow them from.
   */
  kept: string[];
}

export async function cleanup(
  p: NovaPlacement,
  ledger: Ledger,
  before: Map<string, ProviderRef> | undefined,
  newOwner?: { project: string; user: string },
): Promise<CleanupReport> {
  const report: CleanupReport = {
    removed: { consumers: 0, providers: 0, traits: 0 },
    left: [],
    changedMeanwhile: [],
    kept: [],
  };
  for (const c of ledger.consumers) {
    const e = await p.deleteAllocations(c);
    if (e.status === 204) report.removed.consumers += 1;
    else if (e.status !== 404)
      report.left.push(`consumer ${c}: DELETE /allocations answered ${e.status}`);
  }
  for (const uuid of [...ledger.providers].reverse()) {
    const e = await p.deleteProvider(uuid);
    if (e.status === 204) report.removed.providers += 1;
    else if (e.status !== 404)
      report.left.push(`provider ${uuid}: DELETE answered ${e.status} ${e.text.slice(0, 200)}`);
  }
  for (const t of ledger.traits) {
    const e = await p.deleteTrait(t);
    if (e.status === 204) report.removed.traits += 1;
    else if (e.status !== 404) report.left.push(`trait ${t}: DELETE answered ${e.status}`);
  }
  const now = new Map((await p.providers()).map((r) => [r.uuid, r]));
  for (const uuid of ledger.providers) {
    if (now.has(uuid) && !report.left.some((l) => l.includes(uuid))) {
      report.left.push(`provider ${uuid}: still listed after its DELETE`);
    }
  }
  for (const c of ledger.consumers) {
    const { view } = await p.consumer(c);
    if (Object.keys(view.allocations).length > 0)
      report.left.push(`consumer ${c}: still holds allocations`);
  }
  if (newOwner && ledger.consumers.size > 0) {
    report.kept.push(`project ${newOwner.project}`, `user ${newOwner.user}`);
  }
  for (const [uuid, was] of before ?? []) {
    const is = now.get(uuid);
    if (!is || is.generation !== was.generation) report.changedMeanwhile.push(uuid);
  }
  return report;
}
