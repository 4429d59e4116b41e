/**
 * oslo.policy's rule language, parsed as its _parser does: whitespace
 * splits tokens, parentheses are peeled off either end of a token, `and`,
 * `or`, `not` are keywords in any case, and a greedy shift-reduce over the
 * token stream builds the tree (so precedence is not, and, or). Where oslo
 * logs "Failed to understand rule" and fails closed (the check denies), we
 * do the same and also return the problem, so that `api serve` can refuse
 * such a policy file at start-up instead of silently denying.
 */
import {
  AndCheck,
  type Check,
  FalseCheck,
  GenericCheck,
  NotCheck,
  OrCheck,
  RemoteCheck,
  RoleCheck,
  RuleCheck,
  TrueCheck,
} from './checks.js';
import { pyReprValue, pyTypeName, type PyValue } from './python.js';

export interface ParsedRule {
  check: Check;
  /** What oslo.policy would log as an error while parsing (the check then denies there). */
  problems: string[];
}

/** A rule value that oslo.policy cannot even start to parse (it raises while loading the file). */
export class RuleValueError extends Error {}

type TokenType = '(' | ')' | 'and' | 'or' | 'not' | 'string' | 'check' | 'and_expr' | 'or_expr';
type TokenValue = Check | string;

/** One check of the language: `!`, `@`, or `kind:match`. */
function parseCheck(text: unknown, problems: string[]): Check {
  if (text === '!') return new FalseCheck();
  if (text === '@') return new TrueCheck();
  if (typeof text !== 'string') {
    problems.push(
      `${pyReprValue(text as PyValue)} is not a check: a ${pyTypeName(text as PyValue)}, not a string`,
    );
    return new FalseCheck();
  }
  const colon = text.indexOf(':');
  if (colon === -1) {
    problems.push(
      `"${text}" is not a check: a check is "!", "@" or KIND:MATCH (role:admin, rule:NAME, project_id:%(project_id)s)`,
    );
    return new FalseCheck();
  }
  const kind = text.slice(0, colon);
  const match = text.slice(colon + 1);
  if (kind === 'rule') return new RuleCheck(kind, match);
  if (kind === 'role') return new RoleCheck(kind, match);
  if (kind === 'http' || kind === 'https') {
    problems.push(`"${text}" asks a remote server, which placement-upgrade does not do`);
    return new RemoteCheck(kind, match);
  }
  return new GenericCheck(kind, match);
}

function* tokenize(rule: string, problems: string[]): Generator<[TokenType, TokenValue]> {
  for (const tok of rule.split(/\s+/)) {
    if (tok === '' || /^\s*$/.test(tok)) continue;
    let clean = tok.replace(/^\(+/, '');
    for (let i = 0; i < tok.length - clean.length; i++) yield ['(', '('];
    if (!clean) continue;
    const lstripped = clean;
    clean = lstripped.replace(/\)+$/, '');
    const trail = lstripped.length - clean.length;
    const lowered = clean.toLowerCase();
    if (lowered === 'and' || lowered === 'or' || lowered === 'not') {
      yield [lowered, clean];
    } else if (clean) {
      // oslo looks at the quotes on the token with its trailing parentheses still on.
      const first = lstripped[0];
      const last = lstripped[lstripped.length - 1];
      if (lstripped.length >= 2 && (first === '"' || first === "'") && first === last) {
        yield ['string', lstripped.slice(1, -1)];
      } else {
        yield ['check', parseCheck(clean, problems)];
      }
    }
    for (let i = 0; i < trail; i++) yield [')', ')'];
  }
}

type Reducer = {
  pattern: TokenType[];
  reduce: (values: TokenValue[]) => [TokenType, TokenValue][];
};

// In the order oslo's ParseState lists them (class body order, decorators bottom-up).
const REDUCERS: Reducer[] = [
  ...(['or_expr', 'and_expr', 'check'] as const).map((inner): Reducer => ({
    pattern: ['(', inner, ')'],
    reduce: ([, check]) => [['check', check!]],
  })),
  {
    pattern: ['check', 'and', 'check'],
    reduce: ([a, , b]) => [['and_expr', new AndCheck([a as Check, b as Check])]],
  },
  {
    // "A or B and C": the and binds the last check of the or.
    pattern: ['or_expr', 'and', 'check'],
    reduce: ([orExpr, , check]) => {
      const [or, last] = (orExpr as OrCheck).popCheck();
      const and =
        last instanceof AndCheck
          ? last.addCheck(check as Check)
          : new AndCheck([last, check as Check]);
      return [['or_expr', or.addCheck(and)]];
    },
  },
  {
    pattern: ['and_expr', 'and', 'check'],
    reduce: ([andExpr, , check]) => [['and_expr', (andExpr as AndCheck).addCheck(check as Check)]],
  },
  {
    pattern: ['and_expr', 'or', 'check'],
    reduce: ([a, , b]) => [['or_expr', new OrCheck([a as Check, b as Check])]],
  },
  {
    pattern: ['check', 'or', 'check'],
    reduce: ([a, , b]) => [['or_expr', new OrCheck([a as Check, b as Check])]],
  },
  {
    pattern: ['or_expr', 'or', 'check'],
    reduce: ([orExpr, , check]) => [['or_expr', (orExpr as OrCheck).addCheck(check as Check)]],
  },
  {
    pattern: ['not', 'check'],
    reduce: ([, check]) => [['check', new NotCheck(check as Check)]],
  },
];

class ParseState {
  readonly tokens: TokenType[] = [];
  readonly values: TokenValue[] = [];

  shift(type: TokenType, value: TokenValue) {
    this.tokens.push(type);
    this.values.push(value);
    this.reduce();
  }

  private reduce() {
    for (;;) {
      const reducer = REDUCERS.find(
        ({ pattern }) =>
          this.tokens.length >= pattern.length &&
          pattern.every((t, i) => this.tokens[this.tokens.length - pattern.length + i] === t),
      );
      if (!reducer) return;
      const n = reducer.pattern.length;
      const results = reducer.reduce(this.values.slice(-n));
      this.tokens.splice(-n, n, ...results.map(([t]) => t));
      this.values.splice(-n, n, ...results.map(([, v]) => v));
    }
  }
}

/** A rule written in the policy language. */
export function parseTextRule(rule: string): ParsedRule {
  if (rule === '') return { check: new TrueCheck(), problems: [] };
  const problems: string[] = [];
  const state = new ParseState();
  for (const [type, value] of tokenize(rule, problems)) state.shift(type, value);
  const only = state.values.length === 1 ? state.values[0] : undefined;
  if (typeof only === 'object') return { check: only, problems };
  problems.push(`"${rule}" does not parse: check the and/or/not and the parentheses`);
  return { check: new FalseCheck(), problems };
}

/** Iterates a value as Python's `for x in value` would, or says it cannot. */
function pyIter(value: PyValue): PyValue[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (typeof value === 'object' && value !== null) return Object.keys(value);
  throw new RuleValueError(`'${pyTypeName(value)}' object is not iterable`);
}

const falsy = (v: PyValue) =>
  v === null ||
  v === false ||
  v === 0 ||
  v === '' ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

/** The old list-of-lists form: the outer list is or'ed, each inner list and'ed. */
function parseListRule(rule: PyValue): ParsedRule {
  if (falsy(rule)) return { check: new TrueCheck(), problems: [] };
  const problems: string[] = [];
  const orList: Check[] = [];
  for (let inner of pyIter(rule)) {
    if (falsy(inner)) continue;
    if (typeof inner === 'string') inner = [inner];
    const andList = pyIter(inner).map((r) => parseCheck(r, problems));
    orList.push(andList.length === 1 ? andList[0]! : new AndCheck(andList));
  }
  if (orList.length === 0) return { check: new FalseCheck(), problems };
  if (orList.length === 1) return { check: orList[0]!, problems };
  return { check: new OrCheck(orList), problems };
}

/**
 * oslo's parse_rule for a value read from a policy file: a string is the
 * policy language, anything else the list-of-lists form (so an empty or
 * null value, like an empty string, allows everyone). Throws
 * RuleValueError where oslo.policy raises while loading the file.
 */
export function parseRule(value: PyValue): ParsedRule {
  if (typeof value === 'string') return parseTextRule(value);
  return parseListRule(value);
}
