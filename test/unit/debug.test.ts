import { describe, expect, it } from 'vitest';
import { debugEnabled } from '../../src/cli/debug.js';

describe('debugEnabled reads DEBUG as the debug package does', () => {
  it.each([
    ['*', true],
    ['placement-upgrade*', true],
    ['placement-upgrade:*', true],
    ['placement-upgrade:error', true],
    ['oclif:*,placement-upgrade*', true],
    ['oclif:* placement-upgrade:*', true],
    ['knex:*', false],
    ['', false],
    ['placement', false],
    ['*,-placement-upgrade:*', false],
    ['-placement-upgrade:error,*', false],
  ])('DEBUG=%j → %s', (setting, enabled) => {
    expect(debugEnabled('placement-upgrade:error', setting)).toBe(enabled);
  });
});
