import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import { Version } from '../../../src/api/microversion.js';
import {
  normalizeMemberOfParams,
  normalizeResources,
  normalizeTraitsParams,
} from '../../../src/api/params.js';
import { pformat } from '../../../src/api/py-format.js';
import { QueryParams, validateQuery } from '../../../src/api/query.js';
import { listProvidersSchema } from '../../../src/api/schemas/resource-providers.js';
import { totalUsagesSchema } from '../../../src/api/schemas/usages.js';

const detail = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err.detail;
    throw err;
  }
  return null;
};

describe('query strings', () => {
  it('reads the last value, like WebOb', () => {
    const q = new QueryParams('a=1&b=2&a=3');
    expect(q.get('a')).toBe('3');
    expect(q.getAll('a')).toEqual(['1', '3']);
    expect(q.toDict()).toEqual({ a: '3', b: '2' });
  });

  it("reports jsonschema's first error with the schema pretty-printed", () => {
    expect(
      detail(() =>
        validateQuery(new QueryParams('foo=1'), listProvidersSchema(new Version(1, 38))),
      ),
    ).toBe(
      "Invalid query string parameters: Additional properties are not allowed ('foo' was unexpected)\n\n" +
        "Failed validating 'additionalProperties' in schema:\n" +
        "    {'additionalProperties': False,\n" +
        "     'properties': {'in_tree': {'format': 'uuid', 'type': 'string'},\n" +
        "                    'member_of': {'type': 'string'},\n" +
        "                    'name': {'type': 'string'},\n" +
        "                    'required': {'type': 'string'},\n" +
        "                    'resources': {'type': 'string'},\n" +
        "                    'uuid': {'format': 'uuid', 'type': 'string'}},\n" +
        "     'type': 'object'}\n\n" +
        'On instance:\n' +
        "    {'foo': '1'}",
    );
    expect(
      detail(() =>
        validateQuery(new QueryParams('uuid=x'), listProvidersSchema(new Version(1, 0))),
      ),
    ).toMatch(
      /^Invalid query string parameters: 'x' is not a 'uuid'\n\nFailed validating 'format' in schema\['properties'\]\['uuid'\]:/,
    );
    // required beats a property error; it is listed before additionalProperties.
    expect(
      detail(() =>
        validateQuery(new QueryParams('user_id=&x=1'), totalUsagesSchema(new Version(1, 9))),
      ),
    ).toMatch(/^Invalid query string parameters: 'project_id' is a required property/);
  });

  it('pretty-prints like pprint.pformat(width=72)', () => {
    expect(pformat({ b: 'x', a: true })).toBe("{'a': True, 'b': 'x'}");
    expect(pformat({ project_id: 'x'.repeat(80) })).toBe(`{'project_id': '${'x'.repeat(80)}'}`);
  });
});

describe('placement parameter parsers', () => {
  const v = (s: string) => new Version(1, Number(s.split('.')[1]));
  it('resources', () => {
    expect([...normalizeResources('VCPU:2,MEMORY_MB:1024')]).toEqual([
      ['VCPU', 2],
      ['MEMORY_MB', 1024],
    ]);
    expect(detail(() => normalizeResources('VCPU:0'))).toBe(
      'Requested resource VCPU requires amount >= 1. Got: 0.',
    );
    expect(detail(() => normalizeResources('VCPU'))).toMatch(/Got: VCPU\.$/);
  });

  it('required: forbidden from 1.22, in: and repetition from 1.39', () => {
    const q = (s: string) => new QueryParams(s);
    expect(normalizeTraitsParams(q('required=A,!B'), v('1.22'))).toEqual({
      required: [['A']],
      forbidden: ['B'],
    });
    expect(detail(() => normalizeTraitsParams(q('required=A,!B'), v('1.18')))).toMatch(
      /HW_CPU_X86_VMX,CUSTOM_MAGIC\. Got: A,!B$/,
    );
    expect(normalizeTraitsParams(q('required=A&required=B'), v('1.38'))).toEqual({
      required: [['B']],
      forbidden: [],
    });
    expect(normalizeTraitsParams(q('required=A&required=in:B,C'), v('1.39'))).toEqual({
      required: [['A'], ['B', 'C']],
      forbidden: [],
    });
  });

  it('member_of: repeatable from 1.24, forbidden from 1.32', () => {
    const a = '11111111-1111-1111-1111-111111111111';
    const b = '22222222-2222-2222-2222-222222222222';
    const q = new QueryParams(`member_of=${a}&member_of=!${b}`);
    expect(detail(() => normalizeMemberOfParams(q, v('1.23')))).toBe(
      'Multiple member_of parameters are not supported',
    );
    expect(detail(() => normalizeMemberOfParams(q, v('1.24')))).toMatch(
      /^Forbidden member_of parameters/,
    );
    expect(normalizeMemberOfParams(q, v('1.32'))).toEqual({ required: [[a]], forbidden: [b] });
  });
});
