/**
 * The write comparison must see what a Python client sees and nothing
 * else: an int where placement sends a float is a difference, the order of
 * a set is not, and uuids each side generated are followed by name. Checked
 * here on made-up replies, so that a harness that sees too little cannot
 * pass the differential write test by accident.
 */
import { describe, expect, it } from 'vitest';
import { replyDifferences, type Reply } from '../helpers/api-writes.js';
import { PyFloat, PyInt, parsePythonJson, pyFloat, toPythonJson } from '../helpers/python-json.js';

const json = (text: string, extra: Record<string, string> = {}): Reply => ({
  status: 200,
  headers: {
    'content-type': 'application/json',
    'x-openstack-request-id': 'req-3b1e1a3c-8a27-4a43-9c1f-5a0f5c2c9d11',
    ...extra,
  },
  text,
  json: JSON.parse(text),
});

const named = { ours: () => '<new-uuid>', theirs: () => '<new-uuid>' };

describe('python-json', () => {
  it('keeps ints and floats apart, as json.loads does', () => {
    expect(parsePythonJson('{"a": 16, "b": 16.0, "c": 1e3, "d": -0.0}')).toEqual({
      a: new PyInt(16),
      b: new PyFloat(16),
      c: new PyFloat(1000),
      d: new PyFloat(0),
    });
    expect(parsePythonJson('123456789012345678901234567890')).toEqual(
      new PyInt('123456789012345678901234567890'),
    );
  });

  it('writes floats with their point, as a Python client sends them', () => {
    expect(toPythonJson({ total: 16, allocation_ratio: pyFloat(16), ratio: 1.5 })).toBe(
      '{"total": 16, "allocation_ratio": 16.0, "ratio": 1.5}',
    );
  });

  it('refuses what json.loads refuses', () => {
    expect(() => parsePythonJson('{"a": 1,}')).toThrow(SyntaxError);
    expect(() => parsePythonJson('[1] 2')).toThrow(SyntaxError);
  });
});

describe('replyDifferences', () => {
  it('sees 16 where placement says 16.0', () => {
    const diffs = replyDifferences(
      json('{"allocation_ratio": 16}'),
      json('{"allocation_ratio": 16.0}'),
      named,
    );
    expect(diffs.join('\n')).toMatch(/body/);
  });

  it('compares unordered lists as sets and keys in any order', () => {
    expect(
      replyDifferences(
        json('{"traits": ["B", "A"], "resource_provider_generation": 1}'),
        json('{"resource_provider_generation": 1, "traits": ["A", "B"]}'),
        named,
      ),
    ).toEqual([]);
  });

  it('follows each side’s generated uuids by name, in bodies and Location', () => {
    const ours = '0b3c7c55-84a3-4f6e-9a43-1f2e3d4c5b6a';
    const theirs = 'f2a1d6c4-6b0e-4b8a-8e0d-2c3b4a5f6e7d';
    const diffs = replyDifferences(
      json(`{"uuid": "${ours}"}`, { location: `http://127.0.0.1:1/resource_providers/${ours}` }),
      json(`{"uuid": "${theirs}"}`, {
        location: `http://127.0.0.1:2/resource_providers/${theirs}`,
      }),
      {
        ours: (u) => (u === ours ? '{{rp}}' : '<new-uuid>'),
        theirs: (u) => (u === theirs ? '{{rp}}' : '<new-uuid>'),
      },
    );
    expect(diffs).toEqual([]);
  });

  it('sees a missing Location, a header placement defines, and a different status', () => {
    const diffs = replyDifferences(
      { ...json('{}'), status: 200 },
      { ...json('{}', { location: 'http://x/resource_classes/CUSTOM_A' }), status: 201 },
      named,
    );
    expect(diffs).toEqual([
      'status 200 ≠ 201',
      'header location: (none) ≠ <base>/resource_classes/CUSTOM_A',
    ]);
  });

  it('compares last-modified by presence only: the two writes are not simultaneous', () => {
    const a = json('{}', { 'last-modified': 'Tue, 01 Dec 2026 12:00:00 GMT' });
    const b = json('{}', { 'last-modified': 'Tue, 01 Dec 2026 12:00:09 GMT' });
    expect(replyDifferences(a, b, named)).toEqual([]);
    expect(replyDifferences(json('{}'), b, named)).toHaveLength(1);
  });
});
