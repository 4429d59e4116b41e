/**
 * The query of GET /allocation_candidates, read as placement's lib reads it:
 * request groups keyed by suffix (the unsuffixed one may spread over a tree
 * and sharing providers; a suffixed one must be one provider), and the
 * request-wide parameters (limit, group_policy, root_required,
 * same_subtree). Every 400 carries placement's text; the checks run in
 * placement's order, so the first problem reported is the same one.
 */
import { badRequest } from '../errors.js';
import type { Version } from '../microversion.js';
import {
  normalizeMemberOfParams,
  normalizeResources,
  normalizeTraitsParam,
  normalizeTraitsParams,
} from '../params.js';
import { pyRepr } from '../py-format.js';
import type { QueryParams } from '../query.js';
import { GROUP_SUFFIX, GROUP_SUFFIX_1_33 } from '../schemas/allocation-candidates.js';
import { isUuidLike } from '../uuid.js';

const BAD_VALUE = 'placement.query.bad_value';
const MISSING_VALUE = 'placement.query.missing_value';
const DUPLICATE_KEY = 'placement.query.duplicate_key';

export interface RequestGroup {
  /** '' for the unsuffixed group. */
  suffix: string;
  /** True for a suffixed group: one provider must satisfy all of it. */
  useSameProvider: boolean;
  /** Amounts by resource class name, in the order the query gave them. */
  resources: Map<string, number>;
  /** Each inner list is "any of"; all lists must match. */
  requiredTraits: string[][];
  forbiddenTraits: Set<string>;
  /** Each inner list is "any of"; all lists must match. */
  memberOf: string[][];
  forbiddenAggs: Set<string>;
  inTree?: string;
}

export interface RequestWide {
  limit?: number;
  groupPolicy?: 'none' | 'isolate';
  /** root_required (1.35): traits the root of every candidate's tree must have, or not have. */
  anchorRequired?: Set<string>;
  anchorForbidden?: Set<string>;
  /** same_subtree (1.36): each set of suffixes must be satisfied within one subtree. */
  sameSubtrees: Set<string>[];
}

export interface CandidateRequest {
  groups: Map<string, RequestGroup>;
  wide: RequestWide;
}

/** Python's repr of a list of strings, as placement's messages print them. */
function reprList(values: string[]): string {
  return `[${values.map(pyRepr).join(', ')}]`;
}

/** RequestWideParams.from_request. */
function readWide(query: QueryParams): RequestWide {
  const wide: RequestWide = { sameSubtrees: [] };
  const limit = query.getAll('limit');
  // The schema has checked the form of the last one; placement takes the first.
  if (limit.length > 0) wide.limit = Number.parseInt(limit[0]!, 10);
  const policy = query.getAll('group_policy');
  if (policy.length > 0) wide.groupPolicy = policy[0] as 'none' | 'isolate';

  const rootRequired = query.getAll('root_required');
  if (rootRequired.length > 0) {
    if (rootRequired.length > 1) {
      throw badRequest(
        "Query parameter 'root_required' may be specified only once.",
        DUPLICATE_KEY,
      );
    }
    // No any-of (`in:`) here at any microversion: one flat list of traits.
    const parsed = normalizeTraitsParam(rootRequired[0]!, true, false);
    const required = new Set(parsed.required.map(([t]) => t!));
    const forbidden = new Set(parsed.forbidden);
    const conflicts = [...forbidden].filter((t) => required.has(t));
    if (conflicts.length > 0) {
      throw badRequest(
        `Conflicting required and forbidden traits found in root_required: ${conflicts.join(', ')}`,
        BAD_VALUE,
      );
    }
    wide.anchorRequired = required;
    wide.anchorForbidden = forbidden;
  }

  for (const value of query.getAll('same_subtree')) {
    const suffixes = new Set(value.split(',').map((s) => s.trim()));
    if (suffixes.has('')) {
      throw badRequest(
        'Empty string (unsuffixed group) can not be specified in `same_subtree` ',
        BAD_VALUE,
      );
    }
    wide.sameSubtrees.push(suffixes);
  }
  return wide;
}

function newGroup(suffix: string): RequestGroup {
  return {
    suffix,
    useSameProvider: suffix !== '',
    resources: new Map(),
    requiredTraits: [],
    forbiddenTraits: new Set(),
    memberOf: [],
    forbiddenAggs: new Set(),
  };
}

/** RequestGroup._parse_request_items: the group keys in query order, each value parsed as it comes. */
function readGroups(query: QueryParams, v: Version): Map<string, RequestGroup> {
  const suffix = v.atLeast('1.33') ? GROUP_SUFFIX_1_33 : GROUP_SUFFIX;
  const key = new RegExp(`^(resources|required|member_of|in_tree)(${suffix})?$`);
  const groups = new Map<string, RequestGroup>();
  for (const [name, value] of query.pairs()) {
    const match = key.exec(name);
    if (!match) continue;
    const [, prefix, s = ''] = match;
    let group = groups.get(s);
    if (!group) {
      group = newGroup(s);
      groups.set(s, group);
    }
    if (prefix === 'resources') {
      group.resources = normalizeResources(value);
    } else if (prefix === 'required') {
      const traits = normalizeTraitsParams(query, v, s);
      group.requiredTraits = traits.required;
      group.forbiddenTraits = new Set(traits.forbidden);
    } else if (prefix === 'member_of') {
      const aggs = normalizeMemberOfParams(query, v, s);
      group.memberOf = aggs.required;
      group.forbiddenAggs = new Set(aggs.forbidden);
    } else {
      const uuid = value.trim();
      if (!isUuidLike(uuid)) {
        throw badRequest(
          `Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: ${value}`,
        );
      }
      group.inTree = uuid;
    }
  }
  return groups;
}

/** From 1.36: resourceless groups are allowed, but only as members of a same_subtree. */
function checkSubtreeGroups(groups: Map<string, RequestGroup>, wide: RequestWide): void {
  const resourceless = [...groups.values()].filter((g) => g.resources.size === 0);
  if (resourceless.length === groups.size) {
    throw badRequest(
      'There must be at least one resources or resources[$S] parameter.',
      MISSING_VALUE,
    );
  }
  const inSubtrees = new Set(wide.sameSubtrees.flatMap((s) => [...s]));
  const bad = resourceless.map((g) => g.suffix).filter((s) => !inSubtrees.has(s));
  if (bad.length > 0) {
    throw badRequest(
      `Resourceless suffixed group request should be specified in \`same_subtree\` query param: bad group(s) - ${reprList(bad)}.`,
      BAD_VALUE,
    );
  }
  const unknown = [...inSubtrees].filter((s) => !groups.has(s));
  if (unknown.length > 0) {
    throw badRequest(
      `Real suffixes should be specified in \`same_subtree\`: ${reprList(unknown)} not found in ${reprList([...groups.keys()])}.`,
      BAD_VALUE,
    );
  }
}

/** Before 1.36: every group needs resources, and there must be a group. */
function checkOrphans(groups: Map<string, RequestGroup>): void {
  const all = [...groups.values()];
  const orphanTraits = all
    .filter((g) => g.requiredTraits.length > 0 && g.resources.size === 0)
    .map((g) => `required${g.suffix}`);
  if (orphanTraits.length > 0) {
    throw badRequest(
      `All traits parameters must be associated with resources.  Found the following orphaned traits keys: ${orphanTraits.join(', ')}`,
    );
  }
  const orphanAggs = all
    .filter((g) => g.resources.size === 0 && (g.memberOf.length > 0 || g.forbiddenAggs.size > 0))
    .map((g) => `member_of${g.suffix}`);
  if (orphanAggs.length > 0) {
    throw badRequest(
      `All member_of parameters must be associated with resources. Found the following orphaned member_of keys: ${orphanAggs.join(', ')}`,
    );
  }
  if (!all.every((g) => g.resources.size > 0)) {
    throw badRequest('All request groups must specify resources.');
  }
  if (all.length === 0) {
    throw badRequest('At least one request group (`resources` or `resources{$S}`) is required.');
  }
}

/** A required "any of" whose every trait is also forbidden can never match. */
function checkForbidden(groups: Map<string, RequestGroup>): void {
  const conflicts: string[] = [];
  for (const g of groups.values()) {
    for (const any of g.requiredTraits) {
      if (any.every((t) => g.forbiddenTraits.has(t))) {
        conflicts.push(`required${g.suffix}: (${[...any].sort().join(', ')})`);
      }
    }
  }
  if (conflicts.length > 0) {
    throw badRequest(
      `Conflicting required and forbidden traits found in the following traits keys: ${conflicts.sort().join(', ')}`,
    );
  }
}

/**
 * The whole request, after the query schema has passed: request-wide
 * parameters, then the groups, then their cross-checks and the
 * group_policy rule, each in placement's order.
 */
export function readCandidateRequest(query: QueryParams, v: Version): CandidateRequest {
  const wide = readWide(query);
  const groups = readGroups(query, v);
  if (v.atLeast('1.36')) checkSubtreeGroups(groups, wide);
  else checkOrphans(groups);
  if (v.atLeast('1.22')) checkForbidden(groups);
  if (!wide.groupPolicy) {
    const granular = [...groups.values()].filter((g) => g.useSameProvider).length;
    if (granular > 1) {
      throw badRequest(
        'The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.',
      );
    }
  }
  return { groups, wide };
}
