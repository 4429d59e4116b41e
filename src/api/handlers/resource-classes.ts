/** GET /resource_classes and GET /resource_classes/{name} (1.2). */
import { json, lastModifiedOf, type Handler } from '../response.js';
import type { NamedRow } from '../store/index.js';

function serialize(rc: NamedRow) {
  return { name: rc.name, links: [{ rel: 'self', href: `/resource_classes/${rc.name}` }] };
}

export const listResourceClasses: Handler = async (ctx) => {
  const rcs = await ctx.resourceClasses.all();
  return json(ctx, { resource_classes: rcs.map(serialize) }, lastModifiedOf(rcs) ?? new Date());
};

export const getResourceClass: Handler = async (ctx) => {
  const rc = await ctx.resourceClasses.byNameOrThrow(ctx.param('name'));
  return json(ctx, serialize(rc), lastModifiedOf([rc]) ?? new Date());
};
