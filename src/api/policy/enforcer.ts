/**
 * The policy enforcer: placement's registered defaults overlaid with the
 * operator's policy file and policy directories, decided as oslo.policy's
 * Enforcer.authorize decides. Like oslo.policy it notices when a policy
 * file changes and reloads it before the next decision.
 *
 * How the rules are resolved (oslo.policy's load_rules):
 * - every rule the files define replaces placement's default of that name;
 * - a default with a deprecated rule (placement's base rules, whose old
 *   default is `role:admin`) is `new or deprecated` unless the files define
 *   it or enforce_new_defaults is set; a file that overrides the deprecated
 *   rule's own name keeps that override in force for the new rule;
 * - `rule:NAME` of an undefined NAME falls back to the default rule
 *   ([oslo_policy] policy_default_rule, "default") when the files define
 *   one, and otherwise denies.
 * Before the rule, the operation's scope_types are compared with the
 * token's scope (system when OpenStack-System-Scope is set, else domain
 * when X-Domain-Id is, else project): a mismatch denies when
 * enforce_scope is set and is only noted otherwise.
 */
import { OrCheck, type Check, type Dict, type RuleLookup, RuleCheck } from './checks.js';
import { PLACEMENT_POLICY_DEFAULTS, type RuleDefault } from './defaults.js';
import {
  locatePolicySources,
  PolicyFileError,
  readPolicyFile,
  type PolicySources,
} from './files.js';
import type { PolicyOptions } from './options.js';
import { parseRule, RuleValueError, type ParsedRule } from './parser.js';
import { PythonError } from './python.js';

/** Something about the policy that oslo.policy would only log, for the operator to see. */
export interface PolicyNotice {
  /** problem: oslo.policy logs an error and the rule denies there; warning: works, but worth knowing. */
  severity: 'problem' | 'warning';
  message: string;
}

/** The rules in force and what loading them found. */
interface RuleSet {
  rules: Map<string, Check>;
  sources: PolicySources;
  notices: PolicyNotice[];
}

const REGISTERED = new Map(PLACEMENT_POLICY_DEFAULTS.map((d) => [d.name, d]));

/** placement's registered policy names, for checking a route table against them. */
export function registeredPolicies(): string[] {
  return [...REGISTERED.keys()];
}

const parsedDefault = (d: { checkStr: string }) => parseRule(d.checkStr).check;

/** oslo.policy's _handle_deprecated_rule: what a default with a deprecated rule resolves to. */
function resolveDeprecated(
  d: RuleDefault,
  fileRules: Map<string, ParsedRule>,
  enforceNewDefaults: boolean,
): Check {
  const deprecated = d.deprecatedRule!;
  const renamedOverride = fileRules.get(deprecated.name);
  if (
    deprecated.name !== d.name &&
    renamedOverride &&
    renamedOverride.check.toString() !== `rule:${d.name}` &&
    !fileRules.has(d.name)
  ) {
    return renamedOverride.check;
  }
  if (!enforceNewDefaults && deprecated.checkStr !== d.checkStr && !fileRules.has(d.name)) {
    return new OrCheck([parsedDefault(d), parsedDefault(deprecated)]);
  }
  return parsedDefault(d);
}

/** The `rule:` checks in a tree, where oslo.policy looks for them (and/or nodes, not under a `not`). */
function referencedRules(check: Check, out: RuleCheck[] = []): RuleCheck[] {
  if (check instanceof RuleCheck) out.push(check);
  for (const c of (check as { rules?: Check[] }).rules ?? []) referencedRules(c, out);
  return out;
}

/** oslo.policy's check_rules: references to undefined rules and cycles (it warns of both). */
function ruleWarnings(rules: Map<string, Check>): PolicyNotice[] {
  const undefinedRefs: string[] = [];
  const cyclic: string[] = [];
  const hasCycle = (check: Check, seen: Set<string>): boolean => {
    if (check instanceof RuleCheck) {
      if (seen.has(check.match)) return true;
      seen.add(check.match);
      const target = rules.get(check.match);
      if (target && hasCycle(target, seen)) return true;
    }
    const nested = check as { rules?: Check[] };
    return (nested.rules ?? []).some((r) => hasCycle(r, new Set(seen)));
  };
  for (const [name, check] of rules) {
    if (referencedRules(check).some((r) => !rules.has(r.match))) undefinedRefs.push(name);
    if (hasCycle(check, new Set())) cyclic.push(name);
  }
  const notices: PolicyNotice[] = [];
  if (undefinedRefs.length > 0) {
    notices.push({
      severity: 'warning',
      message: `policies ${undefinedRefs.join(', ')} refer to a rule that is not defined (such a reference denies, unless a "default" rule is defined).`,
    });
  }
  if (cyclic.length > 0) {
    notices.push({
      severity: 'warning',
      message: `policies ${cyclic.join(', ')} are part of a cyclical reference (evaluating one fails with a 500).`,
    });
  }
  return notices;
}

/** Loads the files and resolves every rule; throws PolicyFileError where oslo.policy would raise. */
function loadRuleSet(options: PolicyOptions): RuleSet {
  const sources = locatePolicySources(options.policyFile, options.policyDirs, options.searchDirs);
  const notices: PolicyNotice[] = [];
  const fileRules = new Map<string, ParsedRule>();
  for (const path of sources.files) {
    const parsed = readPolicyFile(path);
    if (parsed.json) {
      notices.push({
        severity: 'warning',
        message: `${path} is JSON-formatted, which oslo.policy has deprecated: convert it with oslopolicy-convert-json-to-yaml.`,
      });
    }
    for (const [name, value] of parsed.rules) {
      let rule: ParsedRule;
      try {
        rule = parseRule(value);
      } catch (err) {
        if (err instanceof RuleValueError) {
          throw new PolicyFileError(
            path,
            `${path}: the rule "${name}" is not a rule: ${err.message}.`,
          );
        }
        throw err;
      }
      for (const problem of rule.problems) {
        notices.push({ severity: 'problem', message: `${path}: "${name}": ${problem}` });
      }
      if (value === false || value === 0) {
        notices.push({
          severity: 'warning',
          message: `${path}: "${name}" is ${String(value)}, which oslo.policy reads as an empty rule: it allows everyone.`,
        });
      }
      fileRules.set(name, rule);
    }
  }
  const rules = new Map<string, Check>([...fileRules].map(([n, r]) => [n, r.check]));
  for (const d of PLACEMENT_POLICY_DEFAULTS) {
    if (rules.has(d.name)) continue;
    rules.set(
      d.name,
      d.deprecatedRule
        ? resolveDeprecated(d, fileRules, options.enforceNewDefaults)
        : parsedDefault(d),
    );
  }
  notices.push(...ruleWarnings(rules));
  return { rules, sources, notices };
}

/** What the policy says of one request. */
export type PolicyDecision = 'allowed' | 'denied' | 'out_of_scope';

/** The scope of the token that made the credentials, as oslo.policy's _enforce_scope names it. */
export function tokenScope(creds: Dict): 'system' | 'domain' | 'project' {
  if (creds['system']) return 'system';
  if (creds['domain_id']) return 'domain';
  return 'project';
}

export class PolicyEnforcer implements RuleLookup {
  private ruleSet: RuleSet;

  private constructor(
    private readonly options: PolicyOptions,
    initial: RuleSet,
    private readonly onReload: (notices: PolicyNotice[], error?: Error) => void,
  ) {
    this.ruleSet = initial;
  }

  /**
   * Loads the policy as placement does at start-up. Throws PolicyFileError
   * for a file oslo.policy cannot load; the notices include the rules it
   * would only log about (and then deny), which `api serve` refuses.
   */
  static load(
    options: PolicyOptions,
    onReload: (notices: PolicyNotice[], error?: Error) => void = () => undefined,
  ): { enforcer: PolicyEnforcer; notices: PolicyNotice[]; sources: PolicySources } {
    const ruleSet = loadRuleSet(options);
    return {
      enforcer: new PolicyEnforcer(options, ruleSet, onReload),
      notices: ruleSet.notices,
      sources: ruleSet.sources,
    };
  }

  /** The rule that `rule:NAME` means now. */
  ruleFor(name: string): Check | undefined {
    const { rules } = this.ruleSet;
    const rule = rules.get(name);
    if (rule) return rule;
    const fallback = this.options.defaultRule;
    return fallback && rules.has(fallback) ? rules.get(fallback) : undefined;
  }

  /** The rule in force for a policy name (after files and defaults), for tests and diagnostics. */
  rule(name: string): Check | undefined {
    return this.ruleSet.rules.get(name);
  }

  /**
   * Whether the caller may perform `action` on `target`: allowed, denied
   * by the rule, or refused for the token's scope (enforce_scope; placement
   * words that 403 differently). Throws (a 500, as placement's fault
   * wrapper makes of it) for an unregistered action, a policy file that
   * became unreadable, or a rule that fails to evaluate.
   */
  decide(action: string, target: Dict, creds: Dict): PolicyDecision {
    this.refresh();
    const registered = REGISTERED.get(action);
    if (!registered) {
      throw new PythonError('PolicyNotRegistered', `Policy ${action} has not been registered`);
    }
    if (registered.scopeTypes && !registered.scopeTypes.includes(tokenScope(creds))) {
      if (this.options.enforceScope) return 'out_of_scope';
    }
    const rule = this.ruleSet.rules.get(action)!;
    return rule.evaluate(target, creds, this, 0) ? 'allowed' : 'denied';
  }

  /** Reloads when a policy file appeared, changed or went away (oslo checks before every decision). */
  private refresh(): void {
    const { policyFile, policyDirs, searchDirs } = this.options;
    let sources: PolicySources;
    try {
      sources = locatePolicySources(policyFile, policyDirs, searchDirs);
    } catch (err) {
      this.onReload([], err as Error);
      throw err;
    }
    if (sources.stamp === this.ruleSet.sources.stamp) return;
    try {
      this.ruleSet = loadRuleSet(this.options);
      this.onReload(this.ruleSet.notices);
    } catch (err) {
      // oslo.policy fails the request that found the broken file and keeps the rules it had.
      this.ruleSet = { ...this.ruleSet, sources };
      this.onReload([], err as Error);
      if (err instanceof PolicyFileError) throw new PythonError('ValueError', err.message);
      throw err;
    }
  }
}
