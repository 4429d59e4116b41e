/** GET /traits, GET /traits/{name} and GET /resource_providers/{uuid}/traits (all 1.6). */
import { ObjectNotFound } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import { validateQuery } from '../query.js';
import { empty, httpDate, json, lastModifiedOf, parseDbTime, type Handler } from '../response.js';
import { LIST_TRAITS_SCHEMA } from '../schemas/traits.js';
import type { NamedRow } from '../store/index.js';

function serializeTraits(traits: NamedRow[]) {
  return { body: traits.map((t) => t.name), lastModified: lastModifiedOf(traits) ?? new Date() };
}

export const listTraits: Handler = async (ctx) => {
  validateQuery(ctx.query, LIST_TRAITS_SCHEMA);
  const filter: { nameIn?: string[]; prefix?: string; associated?: boolean } = {};
  let filtered = false;
  const name = ctx.query.get('name');
  if (name !== undefined) {
    const colon = name.indexOf(':');
    if (colon === -1) {
      throw badRequest(
        `Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${name}"`,
      );
    }
    const op = name.slice(0, colon);
    const value = name.slice(colon + 1);
    if (op === 'in') {
      filter.nameIn = value.split(',');
      filtered = true;
    } else if (op === 'startswith') {
      filter.prefix = value;
      filtered = true;
    }
  }
  const associated = ctx.query.get('associated');
  if (associated !== undefined) {
    const lower = associated.toLowerCase();
    if (lower !== 'true' && lower !== 'false') {
      throw badRequest('The query parameter "associated" only accepts "true" or "false"');
    }
    filter.associated = lower === 'true';
    filtered = true;
  }
  const traits = filtered ? await ctx.store.traits.filtered(filter) : await ctx.traits.all();
  const out = serializeTraits(traits);
  return json(ctx, { traits: out.body }, out.lastModified);
};

export const getTrait: Handler = async (ctx) => {
  let trait: NamedRow;
  try {
    trait = await ctx.traits.byNameOrThrow(ctx.param('name'));
  } catch (err) {
    if (err instanceof ObjectNotFound) throw new ApiError(404, err.message);
    throw err;
  }
  const headers: [string, string][] = [];
  if (ctx.version.atLeast('1.15')) {
    const created = parseDbTime(trait.created_at);
    if (created) headers.push(['last-modified', httpDate(created)]);
    headers.push(['cache-control', 'no-cache']);
  }
  return empty(204, headers);
};

export const listTraitsForResourceProvider: Handler = async (ctx) => {
  const uuid = ctx.param('uuid');
  const rp = await ctx.store.providers.byUuid(uuid);
  if (!rp) {
    throw new ApiError(
      404,
      `No resource provider with uuid ${uuid} found: No resource provider with uuid ${uuid} found`,
    );
  }
  const traits: NamedRow[] = [];
  for (const id of await ctx.store.traits.idsOfProvider(rp.id)) traits.push(await ctx.traits.rowOf(id));
  const out = serializeTraits(traits);
  return json(
    ctx,
    { traits: out.body, resource_provider_generation: rp.generation },
    out.lastModified,
  );
};
