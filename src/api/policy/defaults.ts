/**
 * placement 8.0.0's registered policy defaults (placement/policies/*.py),
 * in its registration order: the base rules the others refer to, then one
 * rule per operation with the scopes its token may have. The base rules
 * carry the deprecated `role:admin` default, which oslo.policy or's in
 * while [oslo_policy] enforce_new_defaults is False.
 */

export interface DeprecatedRule {
  name: string;
  checkStr: string;
}

export interface RuleDefault {
  name: string;
  checkStr: string;
  /** The token scopes the operation is meant for; others are refused when enforce_scope is True. */
  scopeTypes?: readonly string[];
  deprecatedRule?: DeprecatedRule;
}

// placement names the deprecated rule by its reference, "rule:admin_api", not by a rule name.
const DEPRECATED_ADMIN: DeprecatedRule = { name: 'rule:admin_api', checkStr: 'role:admin' };

const SYSTEM_ADMIN = 'rule:system_admin_api';
const SYSTEM_READER = 'rule:system_reader_api';
const PROJECT_READER_OR_SYSTEM_READER = 'rule:system_or_project_reader';
const SYSTEM = ['system'] as const;

const op = (
  name: string,
  checkStr: string,
  scopeTypes: readonly string[] = SYSTEM,
): RuleDefault => ({
  name: `placement:${name}`,
  checkStr,
  scopeTypes,
});

export const PLACEMENT_POLICY_DEFAULTS: readonly RuleDefault[] = [
  // base.py
  { name: 'admin_api', checkStr: 'role:admin', scopeTypes: SYSTEM },
  {
    name: 'system_admin_api',
    checkStr: 'role:admin and system_scope:all',
    deprecatedRule: DEPRECATED_ADMIN,
  },
  {
    name: 'system_reader_api',
    checkStr: 'role:reader and system_scope:all',
    deprecatedRule: DEPRECATED_ADMIN,
  },
  {
    name: 'project_reader_api',
    checkStr: 'role:reader and project_id:%(project_id)s',
    deprecatedRule: DEPRECATED_ADMIN,
  },
  {
    name: 'system_or_project_reader',
    checkStr: 'rule:system_reader_api or rule:project_reader_api',
    deprecatedRule: DEPRECATED_ADMIN,
  },
  // resource_provider.py
  op('resource_providers:list', SYSTEM_READER),
  op('resource_providers:create', SYSTEM_ADMIN),
  op('resource_providers:show', SYSTEM_READER),
  op('resource_providers:update', SYSTEM_ADMIN),
  op('resource_providers:delete', SYSTEM_ADMIN),
  // resource_class.py
  op('resource_classes:list', SYSTEM_READER),
  op('resource_classes:create', SYSTEM_ADMIN),
  op('resource_classes:show', SYSTEM_READER),
  op('resource_classes:update', SYSTEM_ADMIN),
  op('resource_classes:delete', SYSTEM_ADMIN),
  // inventory.py
  op('resource_providers:inventories:list', SYSTEM_READER),
  op('resource_providers:inventories:create', SYSTEM_ADMIN),
  op('resource_providers:inventories:show', SYSTEM_READER),
  op('resource_providers:inventories:update', SYSTEM_ADMIN),
  op('resource_providers:inventories:delete', SYSTEM_ADMIN),
  // aggregate.py
  op('resource_providers:aggregates:list', SYSTEM_READER),
  op('resource_providers:aggregates:update', SYSTEM_ADMIN),
  // usage.py
  op('resource_providers:usages', SYSTEM_READER),
  op('usages', PROJECT_READER_OR_SYSTEM_READER, ['system', 'project']),
  // trait.py
  op('traits:list', SYSTEM_READER),
  op('traits:show', SYSTEM_READER),
  op('traits:update', SYSTEM_ADMIN),
  op('traits:delete', SYSTEM_ADMIN),
  op('resource_providers:traits:list', SYSTEM_READER),
  op('resource_providers:traits:update', SYSTEM_ADMIN),
  op('resource_providers:traits:delete', SYSTEM_ADMIN),
  // allocation.py
  op('allocations:manage', SYSTEM_ADMIN),
  op('allocations:list', SYSTEM_READER),
  op('allocations:update', SYSTEM_ADMIN),
  op('allocations:delete', SYSTEM_ADMIN),
  op('resource_providers:allocations:list', SYSTEM_READER),
  // allocation_candidate.py
  op('allocation_candidates:list', SYSTEM_READER),
  // reshaper.py
  op('reshaper:reshape', SYSTEM_ADMIN),
];
