/**
 * Every route of the Placement API, as placement's ROUTE_DECLARATIONS lists
 * them, with each method's microversion floor, the checks its decorators
 * run (in their order), its policy name (src/api/policy/ decides who may
 * call it) and its handler. Writes answer 403 when read-only.
 */
import { getAggregates, updateAggregates } from './handlers/aggregates.js';
import { listAllocationCandidates } from './handlers/allocation-candidates.js';
import {
  deleteAllocations,
  listForConsumer,
  listForResourceProvider,
  postAllocations,
  putAllocations,
} from './handlers/allocations.js';
import {
  createInventory,
  deleteInventories,
  deleteOneInventory,
  getInventories,
  getInventory,
  putInventories,
  putInventory,
} from './handlers/inventories.js';
import { postReshaper } from './handlers/reshaper.js';
import {
  getResourceClass,
  listResourceClasses,
  postResourceClass,
  putResourceClass,
  removeResourceClass,
} from './handlers/resource-classes.js';
import {
  createResourceProvider,
  deleteResourceProvider,
  getResourceProvider,
  listResourceProviders,
  updateResourceProvider,
} from './handlers/resource-providers.js';
import { home } from './handlers/root.js';
import {
  deleteTraitsForResourceProvider,
  getTrait,
  listTraits,
  listTraitsForResourceProvider,
  removeTrait,
  updateTrait,
  updateTraitsForResourceProvider,
} from './handlers/traits.js';
import { getTotalUsages, listProviderUsages } from './handlers/usages.js';
import type { Handler } from './response.js';

/** A decorator check: `accept` (406 unless JSON is acceptable), `version` (below `since`), `content` (415 unless JSON). */
export type Guard = 'accept' | 'version' | 'content';

export interface Operation {
  /** placement's policy name, e.g. placement:resource_providers:list. */
  policy: string;
  /** Changes data: refused when serving read-only. */
  write: boolean;
  /** The first microversion serving it. */
  since?: string;
  /** The status below `since`: 404, or 405 for DELETE …/inventories before 1.5. */
  belowStatus?: 404 | 405;
  guards: Guard[];
  /** The `content` guard applies only below this version (PUT /resource_classes/{name}). */
  contentBefore?: string;
  handler?: Handler;
}

export interface Route {
  pattern: string;
  /** Methods in placement's declaration order (the order of the Allow header). */
  methods: [string, Operation][];
}

const read = (
  policy: string,
  handler: Handler | undefined,
  guards: Guard[],
  extra: Partial<Operation> = {},
): Operation => ({ policy, write: false, guards, handler, ...extra });

const write = (policy: string, guards: Guard[], extra: Partial<Operation> = {}): Operation => ({
  policy,
  write: true,
  guards,
  ...extra,
});

const P = 'placement:';

export const ROUTES: readonly Route[] = [
  { pattern: '/', methods: [['GET', read('', home, [])]] },
  {
    pattern: '/resource_classes',
    methods: [
      [
        'GET',
        read(`${P}resource_classes:list`, listResourceClasses, ['version', 'accept'], {
          since: '1.2',
        }),
      ],
      [
        'POST',
        write(`${P}resource_classes:create`, ['version', 'content'], {
          since: '1.2',
          handler: postResourceClass,
        }),
      ],
    ],
  },
  {
    pattern: '/resource_classes/{name}',
    methods: [
      [
        'GET',
        read(`${P}resource_classes:show`, getResourceClass, ['version', 'accept'], {
          since: '1.2',
        }),
      ],
      // 1.2–1.6 rename (JSON body), 1.7+ create-or-verify (no body).
      [
        'PUT',
        write(`${P}resource_classes:update`, ['version', 'content'], {
          since: '1.2',
          contentBefore: '1.7',
          handler: putResourceClass,
        }),
      ],
      [
        'DELETE',
        write(`${P}resource_classes:delete`, ['version'], {
          since: '1.2',
          handler: removeResourceClass,
        }),
      ],
    ],
  },
  {
    pattern: '/resource_providers',
    methods: [
      ['GET', read(`${P}resource_providers:list`, listResourceProviders, ['accept'])],
      [
        'POST',
        write(`${P}resource_providers:create`, ['content'], { handler: createResourceProvider }),
      ],
    ],
  },
  {
    pattern: '/resource_providers/{uuid}',
    methods: [
      ['GET', read(`${P}resource_providers:show`, getResourceProvider, ['accept'])],
      ['DELETE', write(`${P}resource_providers:delete`, [], { handler: deleteResourceProvider })],
      [
        'PUT',
        write(`${P}resource_providers:update`, ['content'], { handler: updateResourceProvider }),
      ],
    ],
  },
  {
    pattern: '/resource_providers/{uuid}/inventories',
    methods: [
      ['GET', read(`${P}resource_providers:inventories:list`, getInventories, ['accept'])],
      [
        'POST',
        write(`${P}resource_providers:inventories:create`, ['content'], {
          handler: createInventory,
        }),
      ],
      [
        'PUT',
        write(`${P}resource_providers:inventories:update`, ['content'], {
          handler: putInventories,
        }),
      ],
      [
        'DELETE',
        write(`${P}resource_providers:inventories:delete`, ['version'], {
          since: '1.5',
          belowStatus: 405,
          handler: deleteInventories,
        }),
      ],
    ],
  },
  {
    pattern: '/resource_providers/{uuid}/inventories/{resource_class}',
    methods: [
      ['GET', read(`${P}resource_providers:inventories:show`, getInventory, ['accept'])],
      [
        'PUT',
        write(`${P}resource_providers:inventories:update`, ['content'], {
          handler: putInventory,
        }),
      ],
      [
        'DELETE',
        write(`${P}resource_providers:inventories:delete`, [], { handler: deleteOneInventory }),
      ],
    ],
  },
  {
    pattern: '/resource_providers/{uuid}/usages',
    methods: [['GET', read(`${P}resource_providers:usages`, listProviderUsages, ['accept'])]],
  },
  {
    pattern: '/resource_providers/{uuid}/aggregates',
    methods: [
      [
        'GET',
        read(`${P}resource_providers:aggregates:list`, getAggregates, ['accept', 'version'], {
          since: '1.1',
        }),
      ],
      [
        'PUT',
        write(`${P}resource_providers:aggregates:update`, ['content', 'version'], {
          since: '1.1',
          handler: updateAggregates,
        }),
      ],
    ],
  },
  {
    pattern: '/resource_providers/{uuid}/allocations',
    methods: [
      ['GET', read(`${P}resource_providers:allocations:list`, listForResourceProvider, ['accept'])],
    ],
  },
  {
    pattern: '/allocations',
    methods: [
      [
        'POST',
        write(`${P}allocations:manage`, ['version', 'content'], {
          since: '1.13',
          handler: postAllocations,
        }),
      ],
    ],
  },
  {
    pattern: '/allocations/{consumer_uuid}',
    methods: [
      ['GET', read(`${P}allocations:list`, listForConsumer, ['accept'])],
      [
        'PUT',
        write(`${P}allocations:update`, ['version', 'content'], {
          since: '1.0',
          handler: putAllocations,
        }),
      ],
      ['DELETE', write(`${P}allocations:delete`, [], { handler: deleteAllocations })],
    ],
  },
  {
    pattern: '/allocation_candidates',
    methods: [
      [
        'GET',
        read(`${P}allocation_candidates:list`, listAllocationCandidates, ['version', 'accept'], {
          since: '1.10',
        }),
      ],
    ],
  },
  {
    pattern: '/traits',
    methods: [
      ['GET', read(`${P}traits:list`, listTraits, ['version', 'accept'], { since: '1.6' })],
    ],
  },
  {
    pattern: '/traits/{name}',
    methods: [
      ['GET', read(`${P}traits:show`, getTrait, ['version'], { since: '1.6' })],
      ['PUT', write(`${P}traits:update`, ['version'], { since: '1.6', handler: updateTrait })],
      ['DELETE', write(`${P}traits:delete`, ['version'], { since: '1.6', handler: removeTrait })],
    ],
  },
  {
    pattern: '/resource_providers/{uuid}/traits',
    methods: [
      [
        'GET',
        read(
          `${P}resource_providers:traits:list`,
          listTraitsForResourceProvider,
          ['version', 'accept'],
          {
            since: '1.6',
          },
        ),
      ],
      [
        'PUT',
        write(`${P}resource_providers:traits:update`, ['version', 'content'], {
          since: '1.6',
          handler: updateTraitsForResourceProvider,
        }),
      ],
      [
        'DELETE',
        write(`${P}resource_providers:traits:delete`, ['version'], {
          since: '1.6',
          handler: deleteTraitsForResourceProvider,
        }),
      ],
    ],
  },
  {
    pattern: '/usages',
    methods: [
      [
        'GET',
        read(`${P}usages`, getTotalUsages, ['version', 'accept'], {
          since: '1.9',
        }),
      ],
    ],
  },
  {
    pattern: '/reshaper',
    methods: [
      [
        'POST',
        write(`${P}reshaper:reshape`, ['version', 'content'], {
          since: '1.30',
          handler: postReshaper,
        }),
      ],
    ],
  },
];

/** The result of matching a path: the route and its parameters. */
export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.pattern
    .split(/(\{\w+\})/)
    .map((part) => {
      const m = /^\{(\w+)\}$/.exec(part);
      if (m) {
        names.push(m[1]!);
        return '([^/]+?)';
      }
      return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    })
    .join('');
  // As the routes library matches: Python's `$` also matches before a final
  // newline, so a path ending in one (%0A) names what it names without it.
  return { route, regex: new RegExp(`^${source}\n?$`), names };
}

/** Matches decoded request paths against a route table. */
export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly Route[] = ROUTES) {
    this.compiled = routes.map(compile);
  }

  match(path: string): RouteMatch | null {
    for (const c of this.compiled) {
      const m = c.regex.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => (params[name] = m[i + 1]!));
      return { route: c.route, params };
    }
    return null;
  }
}
