import { describe, expect, it } from 'vitest';
import { MicroversionError, negotiateVersion, Version } from '../../../src/api/microversion.js';

const fail = (header: string | undefined) => {
  try {
    negotiateVersion(header);
  } catch (err) {
    if (err instanceof MicroversionError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error(`${header} was accepted`);
};

describe('negotiateVersion (microversion-parse semantics)', () => {
  it.each([
    [undefined, '1.0'],
    ['placement 1.14', '1.14'],
    ['placement latest', '1.39'],
    ['PLACEMENT 1.2', '1.2'],
    ['compute 2.1, placement 1.20', '1.20'],
    ['placement 1.20, placement 1.9', '1.9'],
    ['placement', '1.0'],
    ['compute 2.1', '1.0'],
    ['placement 1.01', '1.1'],
    ['placement 1. 5', '1.5'],
    ['placement 1_0.1', '10.1'],
  ])('%s → %s', (header, expected) => {
    if (expected === '10.1') {
      expect(fail(header)).toEqual({ status: 406, message: 'Unacceptable version header: 1_0.1' });
    } else {
      expect(negotiateVersion(header).toString()).toBe(expected);
    }
  });

  it("answers 400 with Python's words for malformed versions", () => {
    expect(fail('placement 1.a')).toEqual({
      status: 400,
      message: "invalid version string: 1.a; invalid literal for int() with base 10: 'a'",
    });
    expect(fail('placement 2')).toEqual({
      status: 400,
      message:
        "invalid version string: 2; Version.__new__() missing 1 required positional argument: 'minor'",
    });
    expect(fail('placement 1.2.3').message).toBe(
      "invalid version string: 1.2.3; invalid literal for int() with base 10: '2.3'",
    );
    expect(fail('placement LATEST').status).toBe(400);
  });

  it('answers 406 for well-formed versions it does not serve', () => {
    expect(fail('placement 1.40')).toEqual({
      status: 406,
      message: 'Unacceptable version header: 1.40',
    });
    expect(fail('placement 2.0').status).toBe(406);
    expect(fail('placement -1.0').status).toBe(406);
  });

  it('orders versions as tuples', () => {
    expect(new Version(1, 10).atLeast('1.9')).toBe(true);
    expect(new Version(1, 9).matches('1.2', '1.6')).toBe(false);
  });
});
