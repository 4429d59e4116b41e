/**
 * Placement's policy, enforced as placement 8.0.0 enforces it with
 * oslo.policy: the defaults of placement/policies/*.py, the operator's
 * policy file and policy directories from placement.conf's [oslo_policy],
 * the credentials noauth2 makes of a request, and the target each handler
 * passes to context.can().
 */
import { ConfigError } from '../../errors/errors.js';
import type { Dict } from './checks.js';
import { PolicyEnforcer, type PolicyNotice } from './enforcer.js';
import { PolicyFileError, type PolicySources } from './files.js';
import type { PolicyOptions } from './options.js';

export {
  PolicyEnforcer,
  registeredPolicies,
  type PolicyDecision,
  type PolicyNotice,
} from './enforcer.js';
export { noauthCredentials, operatorCredentials } from './credentials.js';
export { readPolicyOptions, DEFAULT_POLICY_OPTIONS, type PolicyOptions } from './options.js';
export type { Dict as PolicyDict } from './checks.js';

/** placement's defaults alone: no policy file is looked for (the in-process verifier uses it). */
export function defaultPolicy(): PolicyEnforcer {
  return PolicyEnforcer.load({
    policyFile: 'policy.json',
    policyDirs: [],
    defaultRule: 'default',
    enforceScope: false,
    enforceNewDefaults: false,
    searchDirs: [],
  }).enforcer;
}

export interface ServingPolicy {
  enforcer: PolicyEnforcer;
  sources: PolicySources;
  /** What oslo.policy would warn about; the policy works. */
  warnings: string[];
}

const POLICY_HINT =
  'Fix the file, or point [oslo_policy] policy_file elsewhere. placement itself would not start ' +
  'on a file it cannot read, and would deny wherever a rule does not parse (it only logs that): ' +
  'placement-upgrade refuses both rather than serve a policy that is not the one intended.';

/**
 * Loads the policy `api serve` enforces. Refuses (ConfigError, exit 2) a
 * file that oslo.policy cannot load and rules it cannot parse; the
 * warnings are for the operator. `onReload` hears of later reloads.
 */
export function loadServingPolicy(
  options: PolicyOptions,
  onReload: (notices: PolicyNotice[], error?: Error) => void,
): ServingPolicy {
  let loaded: ReturnType<typeof PolicyEnforcer.load>;
  try {
    loaded = PolicyEnforcer.load(options, onReload);
  } catch (err) {
    if (err instanceof PolicyFileError) {
      throw new ConfigError(`Cannot use the policy: ${err.message}`, POLICY_HINT, err);
    }
    throw err;
  }
  const problems = loaded.notices.filter((n) => n.severity === 'problem').map((n) => n.message);
  if (problems.length > 0) {
    const more =
      problems.length > 1
        ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}: ${problems.slice(1).join('; ')})`
        : '';
    throw new ConfigError(`Cannot use the policy: ${problems[0]}${more}.`, POLICY_HINT);
  }
  return {
    enforcer: loaded.enforcer,
    sources: loaded.sources,
    warnings: loaded.notices.filter((n) => n.severity === 'warning').map((n) => n.message),
  };
}

/**
 * The target a handler passes to context.can(): GET /usages names the
 * project asked about; every other handler passes none, so placement uses
 * the caller's own project and user.
 */
export function policyTarget(
  action: string,
  creds: Dict,
  queryParam: (name: string) => string | undefined,
): Dict {
  if (action === 'placement:usages') return { project_id: queryParam('project_id') ?? null };
  return { project_id: creds['project_id'] ?? null, user_id: creds['user_id'] ?? null };
}
