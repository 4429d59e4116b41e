/** /traits, /traits/{name} and /resource_providers/{uuid}/traits (all 1.6). */
import { readJsonBody } from '../body.js';
import { ObjectNotFound, type RequestContext } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import { deleteProviderTraits, deleteTrait, putTrait, setProviderTraits } from '../ops/traits.js';
import { validateQuery } from '../query.js';
import { empty, httpDate, json, lastModifiedOf, parseDbTime, type Handler } from '../response.js';
import { LIST_TRAITS_SCHEMA, SET_TRAITS_FOR_RP_SCHEMA } from '../schemas/traits.js';
import { providerOrNotFound } from './resource-providers.js';
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
  for (const id of await ctx.store.traits.idsOfProvider(rp.id))
    traits.push(await ctx.traits.rowOf(id));
  const out = serializeTraits(traits);
  return json(
    ctx,
    { traits: out.body, resource_provider_generation: rp.generation },
    out.lastModified,
  );
};

/** last-modified and cache-control from 1.15, for answers without a body. */
function cachingHeaders(ctx: RequestContext, lastModified: Date): [string, string][] {
  if (!ctx.version.atLeast('1.15')) return [];
  return [
    ['last-modified', httpDate(lastModified)],
    ['cache-control', 'no-cache'],
  ];
}

/** PUT /traits/{name}: 201 when created, 204 when it was there; a Location either way. */
export const updateTrait: Handler = async (ctx) => {
  const name = ctx.param('name');
  const result = await putTrait(ctx, name);
  return empty(result.created ? 201 : 204, [
    ['location', ctx.absoluteUrl(`/traits/${name}`)],
    ...cachingHeaders(ctx, result.lastModified),
  ]);
};

/** DELETE /traits/{name}. */
export const removeTrait: Handler = async (ctx) => {
  await deleteTrait(ctx, ctx.param('name'));
  return empty(204);
};

/** PUT /resource_providers/{uuid}/traits. */
export const updateTraitsForResourceProvider: Handler = async (ctx) => {
  const data = readJsonBody(ctx.body, SET_TRAITS_FOR_RP_SCHEMA) as {
    traits: string[];
    resource_provider_generation: number;
  };
  const result = await setProviderTraits(
    ctx,
    ctx.param('uuid'),
    data.resource_provider_generation,
    data.traits,
  );
  const out = serializeTraits(result.traits);
  return json(
    ctx,
    { traits: out.body, resource_provider_generation: result.generation },
    out.lastModified,
  );
};

/** DELETE /resource_providers/{uuid}/traits. */
export const deleteTraitsForResourceProvider: Handler = async (ctx) => {
  const rp = await providerOrNotFound(ctx, ctx.param('uuid'));
  await deleteProviderTraits(ctx, rp);
  return empty(204);
};
