/** /resource_classes and /resource_classes/{name} (1.2). */
import { readJsonBody } from '../body.js';
import type { RequestContext } from '../context.js';
import { ApiError } from '../errors.js';
import {
  createResourceClass,
  deleteResourceClass,
  ensureResourceClass,
  renameResourceClass,
  ResourceClassExists,
} from '../ops/resource-classes.js';
import { empty, json, lastModifiedOf, type Handler } from '../response.js';
import { POST_RC_SCHEMA_V1_2, PUT_RC_SCHEMA_V1_2 } from '../schemas/resource-classes.js';
import type { NamedRow } from '../store/index.js';

function classUrl(name: string): string {
  return `/resource_classes/${name}`;
}

function serialize(rc: Pick<NamedRow, 'name'>) {
  return { name: rc.name, links: [{ rel: 'self', href: classUrl(rc.name) }] };
}

function location(ctx: RequestContext, name: string): [string, string] {
  return ['location', ctx.absoluteUrl(classUrl(name))];
}

export const listResourceClasses: Handler = async (ctx) => {
  const rcs = await ctx.resourceClasses.all();
  return json(ctx, { resource_classes: rcs.map(serialize) }, lastModifiedOf(rcs) ?? new Date());
};

export const getResourceClass: Handler = async (ctx) => {
  const rc = await ctx.resourceClasses.byNameOrThrow(ctx.param('name'));
  return json(ctx, serialize(rc), lastModifiedOf([rc]) ?? new Date());
};

/** POST /resource_classes: 201 with a Location; a name taken is a 409. */
export const postResourceClass: Handler = async (ctx) => {
  const { name } = readJsonBody(ctx.body, POST_RC_SCHEMA_V1_2) as { name: string };
  try {
    await createResourceClass(ctx, name);
  } catch (err) {
    if (err instanceof ResourceClassExists) {
      throw new ApiError(409, `Conflicting resource class already exists: ${name}`);
    }
    throw err;
  }
  return empty(201, [location(ctx, name)]);
};

/**
 * PUT /resource_classes/{name}: 1.2–1.6 renames it to the body's name;
 * from 1.7 it creates the class (201) or finds it there (204), no body.
 */
export const putResourceClass: Handler = async (ctx) => {
  const name = ctx.param('name');
  if (!ctx.version.atLeast('1.7')) {
    const { name: newName } = readJsonBody(ctx.body, PUT_RC_SCHEMA_V1_2) as { name: string };
    await renameResourceClass(ctx, name, newName);
    return json(ctx, serialize({ name: newName }));
  }
  // placement validates the name as the body {"name": "<name>"}.
  readJsonBody(`{"name": "${name}"}`, PUT_RC_SCHEMA_V1_2);
  const created = await ensureResourceClass(ctx, name);
  return empty(created ? 201 : 204, [location(ctx, name)]);
};

/** DELETE /resource_classes/{name}. */
export const removeResourceClass: Handler = async (ctx) => {
  await deleteResourceClass(ctx, ctx.param('name'));
  return empty(204);
};
