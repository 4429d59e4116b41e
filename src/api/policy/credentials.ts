/**
 * The credentials a policy check sees, built as placement builds them:
 * the noauth2 middleware turns the token `user[:project]` into the
 * X-User-Id / X-Tenant-Id / X-Roles headers keystonemiddleware would set,
 * then oslo.context's RequestContext.from_environ reads those headers (and
 * the others a client sends) and to_policy_values() makes the dict.
 */
import type { Dict } from './checks.js';
import type { PyValue } from './python.js';

export type Headers = Record<string, string | undefined>;

const splitRoles = (value: string | undefined): string[] =>
  value ? value.split(',').map((r) => r.trim()) : [];

/** What placement's noauth2 middleware and RequestContext.from_environ make of a request's headers. */
export function noauthCredentials(headers: Headers): Dict {
  const token = headers['x-auth-token'] ?? '';
  const colon = token.indexOf(':');
  const userId = colon === -1 ? token : token.slice(0, colon);
  const projectId = (colon === -1 ? '' : token.slice(colon + 1)) || userId;
  const sentRoles = headers['x-roles'];
  const roles =
    sentRoles !== undefined ? sentRoles.split(',') : userId === 'admin' ? ['admin'] : [];
  // noauth2 sets X-Tenant-Id only for a request without a system scope.
  const tenant = headers['openstack-system-scope'] ? headers['x-tenant-id'] : projectId;
  return credentialsFromHeaders({
    ...headers,
    'x-user-id': userId,
    'x-tenant-id': tenant,
    'x-roles': roles.join(','),
  });
}

/** The credentials of the operator's --auth-token: a system-scoped admin. */
export function operatorCredentials(): Dict {
  return credentialsFromHeaders({
    'x-user-id': 'admin',
    'x-roles': 'admin',
    'openstack-system-scope': 'all',
  });
}

/** oslo.context's from_environ + to_policy_values, from keystonemiddleware's headers. */
function credentialsFromHeaders(h: Headers): Dict {
  const first = (...names: string[]): PyValue => {
    for (const n of names) if (h[n] !== undefined) return h[n]!;
    return null;
  };
  const creds: Dict = {
    user_id: first('x-user-id', 'x-user'),
    user_domain_id: first('x-user-domain-id'),
    system_scope: first('openstack-system-scope'),
    domain_id: first('x-domain-id'),
    project_id: first('x-project-id', 'x-tenant-id', 'x-tenant'),
    project_domain_id: first('x-project-domain-id'),
    roles: splitRoles(h['x-roles'] ?? h['x-role']),
    is_admin_project: (h['x-is-admin-project'] ?? 'true').toLowerCase() === 'true',
    service_user_id: first('x-service-user-id'),
    service_user_domain_id: first('x-service-user-domain-id'),
    service_project_id: first('x-service-project-id'),
    service_project_domain_id: first('x-service-project-domain-id'),
    service_roles: splitRoles(h['x-service-roles']),
  };
  // oslo.policy's enforce() mirrors a system scope into "system" (older policies check that).
  if (creds['system_scope']) creds['system'] = creds['system_scope'];
  return creds;
}
