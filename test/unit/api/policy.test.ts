/**
 * The policy engine against the real oslo.policy: the rule language (what
 * each rule parses to, and whether oslo complains), then decisions — the
 * same placement.conf and policy files, the same request headers, the
 * same action and target, on both sides — over scenarios that exercise
 * rule resolution (file overrides, deprecated defaults, enforce_scope,
 * enforce_new_defaults, the default rule, policy.d) and the check kinds.
 * Plus the parts that need no oracle: Python formatting, start-up refusal.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOsloConfigFileValues } from '../../../src/config/oslo-ini.js';
import { configSearchDirs } from '../../../src/config/placement-options.js';
import { ConfigError } from '../../../src/errors/errors.js';
import {
  loadServingPolicy,
  noauthCredentials,
  PolicyEnforcer,
  policyTarget,
  readPolicyOptions,
  registeredPolicies,
} from '../../../src/api/policy/index.js';
import { parseRule, RuleValueError } from '../../../src/api/policy/parser.js';
import {
  pyFloatRepr,
  pyFormat,
  PyKeyError,
  pyLiteralEval,
} from '../../../src/api/policy/python.js';
import { ROUTES } from '../../../src/api/routes.js';
import {
  askOsloPolicy,
  osloPolicyAvailable,
  type OracleCase,
} from '../../helpers/oslo-policy-oracle.js';

const available = osloPolicyAvailable();

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A placement.conf (sections as given) and other files in a fresh directory; returns the conf's path. */
function scenario(
  sections: Record<string, Record<string, string | string[]>>,
  files: Record<string, string> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'pu-policy-'));
  dirs.push(dir);
  const all = { placement_database: { connection: 'sqlite://' }, ...sections };
  const lines: string[] = [];
  for (const [name, options] of Object.entries(all)) {
    lines.push(`[${name}]`);
    for (const [k, v] of Object.entries(options)) {
      for (const value of Array.isArray(v) ? v : [v])
        lines.push(`${k} = ${value.replace(/\{DIR\}/g, dir)}`);
    }
  }
  writeFileSync(join(dir, 'placement.conf'), `${lines.join('\n')}\n`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, 'placement.conf');
}

describe('Python semantics the checks use', () => {
  it('formats with a mapping as str % dict does', () => {
    expect(pyFormat('%(project_id)s', { project_id: 'p1' })).toBe('p1');
    expect(pyFormat('%(project_id)s', { project_id: null })).toBe('None');
    expect(pyFormat('100%% %(a)s', { a: true })).toBe('100% True');
    expect(pyFormat('%s', { a: 'x', b: null })).toBe("{'a': 'x', 'b': None}");
    expect(pyFormat('plain', {})).toBe('plain');
    expect(() => pyFormat('%(missing)s', {})).toThrow(PyKeyError);
    expect(() => pyFormat('100%', {})).toThrow(/incomplete format/);
    expect(() => pyFormat('%(a)d', { a: 'x' })).toThrow(/real number is required, not str/);
  });

  it("prints floats as Python's repr", () => {
    expect([1, 1.5, 1e16, 1e-5, 0.0001, 123456789.125, -2.5].map(pyFloatRepr)).toEqual([
      '1.0',
      '1.5',
      '1e+16',
      '1e-05',
      '0.0001',
      '123456789.125',
      '-2.5',
    ]);
  });

  it('tells literals from credential paths as ast.literal_eval does', () => {
    expect(pyLiteralEval('True')).toEqual({ value: true });
    expect(pyLiteralEval("'Member'")).toEqual({ value: 'Member' });
    expect(pyLiteralEval('20')).toEqual({ value: 20 });
    expect(pyLiteralEval('user.enabled')).toEqual({ notLiteral: true });
    expect(pyLiteralEval('project_id')).toEqual({ notLiteral: true });
    expect(() => pyLiteralEval('')).toThrow(/SyntaxError|invalid syntax/);
    expect(() => pyLiteralEval('class')).toThrow(/invalid syntax/);
  });
});

describe('the route table', () => {
  it('names only policies placement registers', () => {
    const registered = new Set(registeredPolicies());
    const used = ROUTES.flatMap((r) => r.methods.map(([, op]) => op.policy)).filter(
      (p) => p !== '',
    );
    expect(used.filter((p) => !registered.has(p))).toEqual([]);
  });
});

describe('start-up refusal', () => {
  const options = (conf: string) =>
    readPolicyOptions(readOsloConfigFileValues([conf]), configSearchDirs([conf]));

  it('refuses a policy file that is not YAML, with exit 2 and a hint', () => {
    const conf = scenario(
      { oslo_policy: { policy_file: 'policy.yaml' } },
      { 'policy.yaml': '"a": [' },
    );
    let thrown: unknown;
    try {
      loadServingPolicy(options(conf), () => undefined);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).exitCode).toBe(2);
    expect((thrown as ConfigError).message).toMatch(/policy\.yaml is neither JSON nor valid YAML/);
    expect((thrown as ConfigError).hint).toMatch(/policy_file/);
  });

  it('refuses a rule oslo.policy cannot parse (it would only log it and deny)', () => {
    const conf = scenario(
      { oslo_policy: { policy_file: 'policy.yaml' } },
      { 'policy.yaml': '"placement:traits:list": "role:admin or"\n"x": "admin"\n' },
    );
    expect(() => loadServingPolicy(options(conf), () => undefined)).toThrow(
      /"placement:traits:list": "role:admin or" does not parse.*and 1 more problem/,
    );
  });

  it('refuses a file that is not a mapping, and a value that is not a rule', () => {
    const list = scenario(
      { oslo_policy: { policy_file: 'p.yaml' } },
      { 'p.yaml': '- role:admin\n' },
    );
    expect(() => loadServingPolicy(options(list), () => undefined)).toThrow(
      /holds a list, not a mapping/,
    );
    const number = scenario({ oslo_policy: { policy_file: 'p.yaml' } }, { 'p.yaml': '"a": 5\n' });
    expect(() => loadServingPolicy(options(number), () => undefined)).toThrow(/"a" is not a rule/);
  });

  it('refuses a boolean option that is not one', () => {
    const conf = scenario({ oslo_policy: { enforce_scope: 'maybe' } });
    expect(() => options(conf)).toThrow(/enforce_scope = maybe is not a boolean/);
  });

  it('warns of undefined references and of rules that allow everyone', () => {
    const conf = scenario(
      { oslo_policy: { policy_file: 'policy.yaml' } },
      {
        'policy.yaml': '"placement:traits:list": "rule:nowhere"\n"placement:traits:show": false\n',
      },
    );
    const { warnings } = loadServingPolicy(options(conf), () => undefined);
    expect(warnings.join('\n')).toMatch(
      /placement:traits:list refer to a rule that is not defined/,
    );
    expect(warnings.join('\n')).toMatch(/"placement:traits:show" is false.*allows everyone/);
  });
});

// Rule values as a policy file can hold them.
const RULES: unknown[] = [
  '',
  '@',
  '!',
  'role:admin',
  'rule:admin_api',
  'role:admin or role:reader',
  'role:a and role:b or role:c',
  'role:a or role:b and role:c',
  'role:a or role:b and role:c and role:d',
  'role:a and role:b or role:c and role:d',
  'not role:a',
  'not role:a and role:b',
  'role:a and not role:b or role:c',
  '(role:a or role:b) and role:c',
  '((role:a))',
  '( role:a )',
  'role:a AND role:b',
  'role:a Or role:b',
  'NOT role:a',
  'not not role:a',
  'role:a and (role:b or role:c) and role:d',
  'role:a or (role:b and role:c) and role:d',
  'project_id:%(project_id)s',
  'project_id:%(project_id)s and (role:reader or role:admin)',
  "'Member':%(role.name)s",
  'True:%(user.enabled)s',
  'system_scope:all',
  'is_admin:True',
  '@ or !',
  '! and @',
  'role:a  or   role:b',
  ' role:a ',
  '\trole:a\n',
  'role:a:b',
  'rule:',
  'foo',
  'role:a or',
  'and',
  'not',
  '(role:a',
  'role:a)',
  "'quoted'",
  'role:a or (role:b',
  'role:a or not',
  '()',
  '(',
  ')',
  '(role:a) or (role:b)',
  'role:a or "x"',
  ':foo',
  null,
  [],
  [[]],
  [['role:a', 'role:b'], ['role:c']],
  ['role:a'],
  [['role:a or role:b']],
  ['x'],
  [[1]],
  false,
  0,
  {},
  { 'role:a': 1 },
  true,
  5,
];

describe.runIf(available)('the rule language, against oslo.policy', () => {
  it('parses every rule to what oslo.policy parses it to, and finds the same problems', () => {
    const answers = askOsloPolicy(RULES.map((rule) => ({ kind: 'parse', rule })));
    const found: string[] = [];
    RULES.forEach((rule, i) => {
      const theirs = answers[i]!;
      let ours: { str: string; problems: number } | { error: string };
      try {
        const parsed = parseRule(rule as never);
        ours = { str: String(parsed.check), problems: parsed.problems.length };
      } catch (err) {
        if (!(err instanceof RuleValueError)) throw err;
        ours = { error: err.message };
      }
      const label = JSON.stringify(rule);
      if ('error' in theirs) {
        if (!('error' in ours))
          found.push(`${label}: oslo raises ${theirs.error}, ours ${JSON.stringify(ours)}`);
        return;
      }
      if (!('str' in theirs)) throw new Error('unexpected answer');
      if ('error' in ours) {
        found.push(`${label}: ours raises ${ours.error}, oslo ${theirs.str}`);
        return;
      }
      // A bare token (oslo returns the token itself, which fails at evaluation): ours denies.
      const expectedStr = theirs.check ? theirs.str : '!';
      const remote = typeof rule === 'string' && /^https?:/.test(rule.trim());
      const expectedProblem = theirs.logged || !theirs.check || remote;
      if (ours.str !== expectedStr) found.push(`${label}: ours ${ours.str}, oslo ${theirs.str}`);
      if (ours.problems > 0 !== expectedProblem) {
        found.push(`${label}: ours ${ours.problems} problems, oslo logged ${theirs.logged}`);
      }
    });
    expect(found.join('\n')).toBe('');
  });
});

/** Callers as headers; the token is noauth2's user[:project]. */
const CALLERS: Record<string, string>[] = [
  { 'X-Auth-Token': 'admin' },
  { 'X-Auth-Token': 'admin', 'OpenStack-System-Scope': 'all' },
  { 'X-Auth-Token': 'admin:proj' },
  { 'X-Auth-Token': 'alice:p1', 'X-Roles': 'reader' },
  { 'X-Auth-Token': 'alice:p1', 'X-Roles': 'reader', 'OpenStack-System-Scope': 'all' },
  { 'X-Auth-Token': 'bob:p2', 'X-Roles': 'Reader' },
  { 'X-Auth-Token': 'carol:p1', 'X-Roles': 'member,reader' },
  { 'X-Auth-Token': 'dave', 'X-Roles': ' admin , reader ' },
  { 'X-Auth-Token': 'eve:p1', 'X-Roles': '' },
  { 'X-Auth-Token': 'frank:p1', 'X-Roles': 'admin', 'X-Domain-Id': 'd1' },
  { 'X-Auth-Token': 'george:p1', 'X-Roles': 'reader', 'X-Project-Id': 'p9' },
  {
    'X-Auth-Token': 'hal',
    'X-Roles': 'reader',
    'OpenStack-System-Scope': 'all',
    'X-Tenant-Id': 't1',
  },
  {
    'X-Auth-Token': 'ivy:p1',
    'X-Roles': 'observer',
    'X-Service-Roles': 'service',
    'X-Is-Admin-Project': 'False',
  },
  { 'X-Auth-Token': ':p1', 'X-Roles': 'reader' },
  { 'X-Auth-Token': 'jo:p1', 'X-Roles': 'READER', 'OpenStack-System-Scope': 'ALL' },
  { 'X-Auth-Token': 'kim:p1', 'X-Roles': 'boss,deprecated_admin', 'X-Tenant-Id': 'other' },
];

/** Actions with the target placement's handler passes (null: context.can's default). */
const ACTIONS: [string, Record<string, unknown> | null][] = [
  ['placement:resource_providers:list', null],
  ['placement:resource_providers:show', null],
  ['placement:resource_providers:create', null],
  ['placement:traits:list', null],
  ['placement:traits:show', null],
  ['placement:allocations:manage', null],
  ['placement:usages', { project_id: 'p1' }],
  ['placement:usages', { project_id: 'p2' }],
  ['placement:usages', { project_id: null }],
];

const GENERIC_RULES = {
  'placement:resource_providers:list': 'user_id:%(user_id)s and role:reader',
  'placement:resource_providers:show': "'p1':%(project_id)s or True:%(missing)s",
  'placement:resource_providers:create': 'roles:reader or system:all or domain_id:d1',
  'placement:traits:list': 'is_admin_project:False or service_roles:service or is_admin:True',
  'placement:traits:show':
    'role:%(project_id)s or project_id:None or user_id:alice and not role:reader',
  'placement:allocations:manage': 'project_id:%s',
  'placement:usages': 'project_id:%(project_id)s or rule:admin_api',
};

/** placement.conf + policy files, each a set of decisions to compare. */
function scenarios(): Record<string, string> {
  const yamlOf = (rules: Record<string, unknown>) =>
    Object.entries(rules)
      .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
      .join('\n');
  return {
    defaults: scenario({}),
    enforce_scope: scenario({ oslo_policy: { enforce_scope: 'True' } }),
    enforce_new_defaults: scenario({ oslo_policy: { enforce_new_defaults: 'yes' } }),
    'both enforced': scenario({
      oslo_policy: { enforce_scope: 'true', enforce_new_defaults: 'true' },
    }),
    'YAML overrides base and operation rules': scenario(
      { oslo_policy: { policy_file: 'policy.yaml' } },
      {
        'policy.yaml': [
          '# an operator policy',
          '"placement:resource_providers:list": "role:reader"',
          '"system_reader_api": "role:observer or rule:admin_api"',
          "admin_api: 'role:boss'",
          '"placement:usages": |',
          '  role:reader and',
          '  project_id:%(project_id)s',
        ].join('\n'),
      },
    ),
    'policy.json found by its default name': scenario(
      {},
      {
        'policy.json': JSON.stringify({
          'placement:usages': 'project_id:%(project_id)s',
          'placement:traits:show': '@',
          'placement:allocations:manage': '!',
          system_admin_api: 'role:member',
        }),
      },
    ),
    'policy.yaml is not read unless named': scenario(
      {},
      { 'policy.yaml': '"placement:traits:list": "!"' },
    ),
    'the default rule': scenario(
      { oslo_policy: { policy_file: 'policy.yaml' } },
      {
        'policy.yaml': yamlOf({
          'placement:resource_providers:list': 'rule:nope',
          'placement:traits:list': 'rule:nope or role:member',
          default: 'role:reader',
        }),
      },
    ),
    'a custom default rule name, in [DEFAULT]': scenario(
      { DEFAULT: { policy_default_rule: 'fallback', policy_file: 'p.yaml' } },
      {
        'p.yaml': yamlOf({
          'placement:resource_providers:list': 'rule:nope',
          fallback: 'role:member',
        }),
      },
    ),
    'the deprecated rule overridden by its own name': scenario(
      { oslo_policy: { policy_file: 'policy.yaml' } },
      { 'policy.yaml': yamlOf({ 'rule:admin_api': 'role:deprecated_admin' }) },
    ),
    'the deprecated rule pointing at the new one': scenario(
      { oslo_policy: { policy_file: 'policy.yaml', enforce_new_defaults: 'false' } },
      { 'policy.yaml': yamlOf({ 'rule:admin_api': 'rule:system_admin_api' }) },
    ),
    'policy.d over the policy file, in name order': scenario(
      { oslo_policy: { policy_file: 'main.yaml' } },
      {
        'main.yaml': yamlOf({ 'placement:traits:list': '!', 'placement:traits:show': '!' }),
        'policy.d/01-first.yaml': yamlOf({
          'placement:traits:list': 'role:member',
          'placement:usages': '!',
        }),
        'policy.d/02-second.yaml': yamlOf({ 'placement:usages': 'role:observer' }),
        'policy.d/.hidden.yaml': yamlOf({ 'placement:traits:show': '@' }),
      },
    ),
    'several policy_dirs, absolute': scenario(
      { oslo_policy: { policy_dirs: ['{DIR}/a', '{DIR}/b', 'missing.d'] } },
      {
        'a/x.yaml': yamlOf({ 'placement:traits:list': 'role:member' }),
        'b/x.yaml': yamlOf({ 'placement:traits:list': 'role:observer' }),
      },
    ),
    'generic checks': scenario(
      { oslo_policy: { policy_file: 'p.yaml' } },
      { 'p.yaml': yamlOf(GENERIC_RULES) },
    ),
    'generic checks, scope and new defaults enforced': scenario(
      { oslo_policy: { policy_file: 'p.yaml', enforce_scope: 'on', enforce_new_defaults: 'on' } },
      { 'p.yaml': yamlOf(GENERIC_RULES) },
    ),
    'checks that fail in Python': scenario(
      { oslo_policy: { policy_file: 'p.yaml' } },
      {
        'p.yaml': yamlOf({
          'placement:resource_providers:list': 'roles.name:x',
          'placement:resource_providers:show': 'project_id.x:y',
          'placement:traits:list': 'project_id:100%',
          'placement:traits:show': 'system_scope.x:y',
          'placement:usages': 'rule:loop',
          loop: 'role:reader and rule:loop',
        }),
      },
    ),
    'list-of-lists, null, false, empty and YAML 1.1 booleans': scenario(
      { oslo_policy: { policy_file: 'p.yaml' } },
      {
        'p.yaml': [
          '"placement:resource_providers:list": [["role:member", "role:reader"], ["role:observer"]]',
          '"placement:resource_providers:show":',
          '"placement:resource_providers:create": false',
          '"placement:traits:list": ""',
          '"placement:traits:show": no',
          '"placement:allocations:manage": []',
          '"placement:usages": [[]]',
          '"placement:usages": ["role:observer"]',
        ].join('\n'),
      },
    ),
    'a YAML file that does not parse': scenario(
      { oslo_policy: { policy_file: 'p.yaml' } },
      { 'p.yaml': '"placement:usages": "role:a\n' },
    ),
    'rules oslo.policy fails closed': scenario(
      { oslo_policy: { policy_file: 'p.yaml' } },
      {
        'p.yaml': yamlOf({
          'placement:resource_providers:list': 'role:reader or',
          'placement:traits:list': 'reader',
          'placement:usages': 'role:reader and (project_id:%(project_id)s',
        }),
      },
    ),
  };
}

describe.runIf(available)('decisions, against oslo.policy and placement', () => {
  it('allows, denies and fails exactly where placement does', () => {
    const cases: {
      scenario: string;
      conf: string;
      headers: Record<string, string>;
      action: string;
      target: Record<string, unknown> | null;
    }[] = [];
    for (const [name, conf] of Object.entries(scenarios())) {
      for (const headers of CALLERS) {
        for (const [action, target] of ACTIONS)
          cases.push({ scenario: name, conf, headers, action, target });
      }
    }
    const answers = askOsloPolicy(
      cases.map((c): OracleCase => ({
        kind: 'authorize',
        config_file: c.conf,
        headers: c.headers,
        action: c.action,
        target: c.target,
      })),
    );
    const enforcers = new Map<string, PolicyEnforcer | Error>();
    const enforcerFor = (conf: string) => {
      if (!enforcers.has(conf)) {
        try {
          const options = readPolicyOptions(
            readOsloConfigFileValues([conf]),
            configSearchDirs([conf]),
          );
          enforcers.set(conf, PolicyEnforcer.load(options).enforcer);
        } catch (err) {
          enforcers.set(conf, err as Error);
        }
      }
      return enforcers.get(conf)!;
    };
    const found: string[] = [];
    const outcomes = new Map<string, Set<string>>();
    cases.forEach((c, i) => {
      const theirs = answers[i]!;
      const expected = 'allowed' in theirs ? String(theirs.allowed) : 'error';
      let ours: string;
      const enforcer = enforcerFor(c.conf);
      if (enforcer instanceof Error) ours = 'error';
      else {
        const lower = Object.fromEntries(
          Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]),
        );
        const creds = noauthCredentials(lower);
        const target = c.target ?? policyTarget(c.action, creds, () => undefined);
        try {
          ours = String(enforcer.decide(c.action, target as never, creds) === 'allowed');
        } catch {
          ours = 'error';
        }
      }
      const seen = outcomes.get(c.scenario) ?? new Set();
      seen.add(expected);
      outcomes.set(c.scenario, seen);
      if (ours !== expected) {
        found.push(
          `${c.scenario}: ${c.action} ${JSON.stringify(c.target)} as ${JSON.stringify(c.headers)}: ours ${ours}, placement ${'error' in theirs ? theirs.error : expected}`,
        );
      }
    });
    expect(found.slice(0, 20).join('\n'), `${found.length} of ${cases.length} differ`).toBe('');
    // The scenarios must decide something: each allows or fails somewhere, and denies somewhere.
    const dull = [...outcomes]
      .filter(([name, s]) => s.size < 2 && !['a YAML file that does not parse'].includes(name))
      .map(([name]) => name);
    expect(dull).toEqual([]);
  });
});
