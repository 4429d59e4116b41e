/**
 * oslo.policy's check tree: what a rule string parses to and how it is
 * evaluated against a target (the object acted on) and the caller's
 * credentials. Mutable like oslo's own (its parser extends and/or nodes in
 * place), and printed the way oslo prints them, since oslo compares those
 * strings when it decides which default a policy file replaces.
 */
import {
  pyFormat,
  PyKeyError,
  pyLiteralEval,
  pyStr,
  PythonError,
  pyTypeName,
  type PyValue,
} from './python.js';

export type Dict = { [key: string]: PyValue };

/** What a check needs beyond target and credentials: the other rules, by name. */
export interface RuleLookup {
  /** The rule `rule:NAME` refers to (the default rule when NAME is not defined), or undefined. */
  ruleFor(name: string): Check | undefined;
}

/** Python's recursion limit is what ends a cyclical rule there; we stop a little earlier. */
const MAX_DEPTH = 200;

export abstract class Check {
  abstract toString(): string;
  abstract evaluate(target: Dict, creds: Dict, rules: RuleLookup, depth: number): boolean;
}

export class TrueCheck extends Check {
  toString() {
    return '@';
  }
  evaluate() {
    return true;
  }
}

export class FalseCheck extends Check {
  toString() {
    return '!';
  }
  evaluate() {
    return false;
  }
}

export class NotCheck extends Check {
  constructor(readonly rule: Check) {
    super();
  }
  toString() {
    return `not ${this.rule}`;
  }
  evaluate(target: Dict, creds: Dict, rules: RuleLookup, depth: number) {
    return !this.rule.evaluate(target, creds, rules, depth);
  }
}

export class AndCheck extends Check {
  constructor(readonly rules: Check[]) {
    super();
  }
  toString() {
    return `(${this.rules.map(String).join(' and ')})`;
  }
  evaluate(target: Dict, creds: Dict, rules: RuleLookup, depth: number) {
    return this.rules.every((r) => r.evaluate(target, creds, rules, depth));
  }
  addCheck(rule: Check): this {
    this.rules.push(rule);
    return this;
  }
}

export class OrCheck extends Check {
  constructor(readonly rules: Check[]) {
    super();
  }
  toString() {
    return `(${this.rules.map(String).join(' or ')})`;
  }
  evaluate(target: Dict, creds: Dict, rules: RuleLookup, depth: number) {
    return this.rules.some((r) => r.evaluate(target, creds, rules, depth));
  }
  addCheck(rule: Check): this {
    this.rules.push(rule);
    return this;
  }
  popCheck(): [this, Check] {
    return [this, this.rules.pop()!];
  }
}

/** A `kind:match` check. */
abstract class KindCheck extends Check {
  constructor(
    readonly kind: string,
    readonly match: string,
  ) {
    super();
  }
  toString() {
    return `${this.kind}:${this.match}`;
  }
}

/** `rule:NAME`: another rule's outcome; an undefined rule (and no default rule) denies. */
export class RuleCheck extends KindCheck {
  evaluate(target: Dict, creds: Dict, rules: RuleLookup, depth: number) {
    if (depth > MAX_DEPTH) {
      throw new PythonError('RecursionError', 'maximum recursion depth exceeded');
    }
    const rule = rules.ruleFor(this.match);
    return rule ? rule.evaluate(target, creds, rules, depth + 1) : false;
  }
}

/** Fills the match from the target; a missing key makes the check deny, as in oslo. */
function formatMatch(match: string, target: Dict): string | undefined {
  try {
    return pyFormat(match, target);
  } catch (err) {
    if (err instanceof PyKeyError) return undefined;
    throw err;
  }
}

/** `role:NAME`: the caller holds that role (case-insensitive; NAME may use %(target)s). */
export class RoleCheck extends KindCheck {
  evaluate(target: Dict, creds: Dict) {
    const match = formatMatch(this.match, target);
    if (match === undefined) return false;
    const roles = creds['roles'];
    if (!Array.isArray(roles)) return false;
    const wanted = match.toLowerCase();
    return roles.some((r) => pyStr(r).toLowerCase() === wanted);
  }
}

function subscriptError(v: PyValue): PythonError {
  if (Array.isArray(v)) {
    return new PythonError('TypeError', 'list indices must be integers or slices, not str');
  }
  if (typeof v === 'string') {
    return new PythonError('TypeError', "string indices must be integers, not 'str'");
  }
  return new PythonError('TypeError', `'${pyTypeName(v)}' object is not subscriptable`);
}

/** oslo's _find_in_dict: walks the dotted path into the credentials; a list matches if any item does. */
function findInDict(value: PyValue, path: string[], match: string): boolean {
  if (path.length === 0) return match === pyStr(value);
  const [key, ...rest] = path as [string, ...string[]];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw subscriptError(value);
  }
  if (!Object.hasOwn(value, key)) return false;
  const next = value[key]!;
  if (Array.isArray(next)) return next.some((item) => findInDict(item, rest, match));
  return findInDict(next, rest, match);
}

/**
 * Any other `kind:match`: a literal left side (True, 'str', 42) is compared
 * with the match as text; otherwise the left side is a dotted path into the
 * credentials (project_id, user_id, system_scope, roles …).
 */
export class GenericCheck extends KindCheck {
  evaluate(target: Dict, creds: Dict) {
    const match = formatMatch(this.match, target);
    if (match === undefined) return false;
    const literal = pyLiteralEval(this.kind);
    if ('value' in literal) return match === pyStr(literal.value);
    return findInDict(creds, this.kind.split('.'), match);
  }
}

/** `http:` / `https:` checks ask a remote server; placement-upgrade refuses them at start-up. */
export class RemoteCheck extends KindCheck {
  evaluate(): boolean {
    throw new PythonError(
      'NotImplementedError',
      `remote policy checks (${this.kind}:) are not supported`,
    );
  }
}
