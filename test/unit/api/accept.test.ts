import { describe, expect, it } from 'vitest';
import { acceptableOffers, hasValidAccept } from '../../../src/api/accept.js';

const OFFERS = ['text/html', 'application/json'];

describe('Accept negotiation (WebOb semantics)', () => {
  it.each([
    ['application/json', ['application/json']],
    ['text/html', ['text/html']],
    ['*/*', OFFERS],
    ['application/*', ['application/json']],
    ['application/json;q=0', []],
    ['text/html, application/json', OFFERS],
    ['text/html;q=0.5, application/json', ['application/json', 'text/html']],
    ['image/png', []],
    ['application/json;charset=utf-8', []],
  ])('%s → %j', (accept, expected) => {
    expect(acceptableOffers(accept, OFFERS)).toEqual(expected);
  });

  it('treats an absent or invalid header as accepting anything', () => {
    expect(acceptableOffers(undefined, OFFERS)).toEqual(OFFERS);
    expect(acceptableOffers('garbage;;', OFFERS)).toEqual(OFFERS);
    expect(hasValidAccept('garbage;;')).toBe(false);
    expect(hasValidAccept('application/json')).toBe(true);
  });
});
