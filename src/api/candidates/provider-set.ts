/**
 * A set of (provider, root of the tree it serves, resource class) triples:
 * the providers that can give one class to one tree (a sharing provider
 * serves the trees it anchors). placement's RPCandidateList.
 */
import type { ProviderAndRoot } from '../store/candidates.js';

export interface Candidate {
  id: number;
  rootId: number;
  classId: number;
}

export class Candidates {
  private items = new Map<string, Candidate>();

  get size(): number {
    return this.items.size;
  }

  values(): IterableIterator<Candidate> {
    return this.items.values();
  }

  add(pairs: Iterable<ProviderAndRoot>, classId: number): void {
    for (const [id, rootId] of pairs) {
      const key = `${id},${rootId},${classId}`;
      if (!this.items.has(key)) this.items.set(key, { id, rootId, classId });
    }
  }

  private keep(test: (c: Candidate) => boolean): void {
    for (const [key, c] of this.items) if (!test(c)) this.items.delete(key);
  }

  /** Only candidates serving one of the trees. */
  keepTrees(rootIds: Set<number>): void {
    this.keep((c) => rootIds.has(c.rootId));
  }

  /** Only candidates whose provider or tree root is one of `ids`. */
  keepProviderOrTree(ids: Set<number>): void {
    this.keep((c) => ids.has(c.id) || ids.has(c.rootId));
  }

  /** Drops candidates whose provider or tree root is one of `ids`. */
  dropProviderOrTree(ids: Set<number>): void {
    this.keep((c) => !ids.has(c.id) && !ids.has(c.rootId));
  }

  /** Only candidates whose "provider,root" pair is in `pairs`. */
  keepProviders(pairs: Set<string>): void {
    this.keep((c) => pairs.has(`${c.id},${c.rootId}`));
  }

  /** Adds `other`'s candidates, keeping only trees both have (an empty side takes the other's). */
  mergeCommonTrees(other: Candidates): void {
    if (this.size === 0) {
      this.items = new Map(other.items);
      return;
    }
    if (other.size === 0) return;
    const mine = this.trees();
    const both = new Set([...other.trees()].filter((t) => mine.has(t)));
    for (const [key, c] of other.items) if (!this.items.has(key)) this.items.set(key, c);
    this.keepTrees(both);
  }

  providerIds(): Set<number> {
    return new Set([...this.items.values()].map((c) => c.id));
  }

  trees(): Set<number> {
    return new Set([...this.items.values()].map((c) => c.rootId));
  }

  /** Providers and tree roots together. */
  allProviderIds(): Set<number> {
    const out = this.providerIds();
    for (const t of this.trees()) out.add(t);
    return out;
  }
}
