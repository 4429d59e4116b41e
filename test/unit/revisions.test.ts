import { describe, expect, it } from 'vitest';
import {
  HEAD,
  RELEASES,
  REVISIONS,
  releasesKnowing,
  resolveRevisionTarget,
  upgradePath,
} from '../../src/migrations/index.js';
import { UsageError } from '../../src/errors/errors.js';

describe('placement revisions', () => {
  it('form one chain from the initial revision to head', () => {
    REVISIONS.forEach((r, i) => expect(r.down).toBe(i === 0 ? null : REVISIONS[i - 1]!.id));
    expect(HEAD).toBe('a082b8bb98d0');
  });

  it('every release head is a known revision', () => {
    for (const r of RELEASES) expect(REVISIONS.map((x) => x.id)).toContain(r.head);
  });

  it.each([
    ['head', 'a082b8bb98d0'],
    ['stein', 'b4ed3a175331'],
    ['train', 'b5c396305c25'],
    ['zed', '422ece571366'],
    ['8.0.0', '422ece571366'],
    ['antelope', '422ece571366'],
    ['2023.1', '422ece571366'],
    ['2023.2', 'a082b8bb98d0'],
    ['611cd6dffd7b', '611cd6dffd7b'],
  ])('resolves %s to %s', (target, revision) => {
    expect(resolveRevisionTarget(target).revision).toBe(revision);
  });

  it('refuses what it does not know', () => {
    expect(() => resolveRevisionTarget('kilo')).toThrow(UsageError);
  });

  it('plans upgrade paths', () => {
    expect(upgradePath(null, 'b5c396305c25').map((r) => r.id)).toEqual([
      'b4ed3a175331',
      '611cd6dffd7b',
      'b5c396305c25',
    ]);
    expect(upgradePath('422ece571366', HEAD).map((r) => r.id)).toEqual([HEAD]);
    expect(upgradePath(HEAD, HEAD)).toEqual([]);
  });

  it('knows which releases accept a revision', () => {
    expect(releasesKnowing('422ece571366')).toContain('zed');
    expect(releasesKnowing('422ece571366')).not.toContain('wallaby');
    expect(releasesKnowing(HEAD)).not.toContain('2023.1');
  });
});
