import { UsageError } from '../errors/errors.js';
import { addConsumerTypesTable } from './422ece571366-add-consumer-types-table.js';
import { blockOnNullRootProviderId } from './611cd6dffd7b-block-on-null-root-provider-id.js';
import { dropRedundantIndexes } from './a082b8bb98d0-drop-redundant-indexes.js';
import { initial } from './b4ed3a175331-initial.js';
import { blockOnNullConsumer } from './b5c396305c25-block-on-null-consumer.js';
import type { Revision } from './revision.js';

export type { Revision, SchemaOps } from './revision.js';

/** Placement's revisions in upgrade order: each one's `down` is the previous id. */
export const REVISIONS: readonly Revision[] = [
  initial,
  blockOnNullRootProviderId,
  blockOnNullConsumer,
  addConsumerTypesTable,
  dropRedundantIndexes,
];

export const HEAD = REVISIONS[REVISIONS.length - 1]!.id;
export const INITIAL_REVISION = REVISIONS[0]!.id;

/**
 * Each placement release, with its version and the newest revision it knows.
 * A database stamped past this head is refused by that release's
 * placement-manage, so `db sync --revision <release>` stops there.
 */
export const RELEASES: readonly {
  name: string;
  codename?: string;
  version: string;
  head: string;
}[] = [
  { name: 'stein', version: '1.0.0', head: 'b4ed3a175331' },
  { name: 'train', version: '2.0.0', head: 'b5c396305c25' },
  { name: 'ussuri', version: '3.0.0', head: 'b5c396305c25' },
  { name: 'victoria', version: '4.0.0', head: 'b5c396305c25' },
  { name: 'wallaby', version: '5.0.0', head: 'b5c396305c25' },
  { name: 'xena', version: '6.0.0', head: '422ece571366' },
  { name: 'yoga', version: '7.0.0', head: '422ece571366' },
  { name: 'zed', version: '8.0.0', head: '422ece571366' },
  { name: '2023.1', codename: 'antelope', version: '9.0.0', head: '422ece571366' },
  { name: '2023.2', codename: 'bobcat', version: '10.0.0', head: 'a082b8bb98d0' },
  { name: '2024.1', codename: 'caracal', version: '11.0.0', head: 'a082b8bb98d0' },
  { name: '2024.2', codename: 'dalmatian', version: '12.0.0', head: 'a082b8bb98d0' },
  { name: '2025.1', codename: 'epoxy', version: '13.0.0', head: 'a082b8bb98d0' },
  { name: '2025.2', codename: 'flamingo', version: '14.0.0', head: 'a082b8bb98d0' },
  { name: '2026.1', codename: 'gazpacho', version: '15.0.0', head: 'a082b8bb98d0' },
];

/** Looks a revision up by id. */
export function findRevision(id: string): Revision | undefined {
  return REVISIONS.find((r) => r.id === id);
}

/** The releases whose placement-manage knows `id` (every release from the one that introduced it). */
export function releasesKnowing(id: string): string[] {
  const index = REVISIONS.findIndex((r) => r.id === id);
  if (index === -1) return [];
  return RELEASES.filter((rel) => REVISIONS.findIndex((r) => r.id === rel.head) >= index).map(
    (r) => r.name,
  );
}

/** The first release shipping `id` as part of its schema, e.g. "xena" for 422ece571366. */
export function releaseOf(id: string): string | undefined {
  return findRevision(id)?.since;
}

/** A placement release by name, code name or version (zed, 2023.1, antelope, 8.0.0, 8.0). */
export function findRelease(name: string): (typeof RELEASES)[number] | undefined {
  const t = name.toLowerCase();
  return RELEASES.find(
    (r) =>
      r.name === t || r.codename === t || r.version === t || r.version.replace(/\.0$/, '') === t,
  );
}

/** The newest placement release placement-upgrade knows. */
export const NEWEST_RELEASE = RELEASES[RELEASES.length - 1]!;

/**
 * Resolves what a user typed for --revision: a revision id, `head`, or a
 * release name, code name or version (zed, 2023.1, antelope, 8.0.0).
 */
export function resolveRevisionTarget(target: string | undefined): {
  revision: string;
  release?: string;
} {
  if (target === undefined || target === '' || target.toLowerCase() === 'head')
    return { revision: HEAD };
  const t = target.toLowerCase();
  if (findRevision(t)) return { revision: t };
  const release = findRelease(t);
  if (release) return { revision: release.head, release: release.name };
  throw new UsageError(
    `"${target}" is neither a placement revision nor a placement release.`,
    `Revisions: ${REVISIONS.map((r) => r.id).join(', ')}, or head. Releases: ${RELEASES.map((r) => r.name).join(', ')}.`,
  );
}

/** The revisions to apply to go from `current` (null = empty) to `target`. */
export function upgradePath(current: string | null, target: string): Revision[] {
  const from = current === null ? -1 : REVISIONS.findIndex((r) => r.id === current);
  const to = REVISIONS.findIndex((r) => r.id === target);
  return REVISIONS.slice(from + 1, to + 1);
}

/** Position of a revision in history (-1 for none), for comparisons. */
export function revisionIndex(id: string | null): number {
  return id === null ? -1 : REVISIONS.findIndex((r) => r.id === id);
}
