/**
 * GET /resource_providers/{uuid}/allocations, and /allocations: GET, PUT
 * and DELETE of a consumer's allocations, POST of several consumers'.
 */
import { parseBody } from '../json-schema.js';
import { ApiError, badRequest } from '../errors.js';
import {
  deleteConsumerAllocations,
  setAllocations,
  setConsumerAllocations,
  type ConsumerAllocations,
  type PutAllocationsBody,
} from '../ops/allocations.js';
import { withGenerationText } from '../ops/consumers.js';
import { isPyDict, toPlain, type PyJson } from '../py-json.js';
import { empty, json, lastModifiedOf, type Handler } from '../response.js';
import { postAllocationsSchema, putAllocationsSchema } from '../schemas/allocations.js';
import { isUuidLike } from '../uuid.js';

export const listForResourceProvider: Handler = async (ctx) => {
  const uuid = ctx.param('uuid');
  const rp = await ctx.store.providers.byUuid(uuid);
  if (!rp) {
    throw new ApiError(
      404,
      `Resource provider '${uuid}' not found: No resource provider with uuid ${uuid} found`,
    );
  }
  const rows = await ctx.store.allocations.ofProvider(rp.id);
  const allocations: Record<
    string,
    { resources: Record<string, number>; consumer_generation?: number | null }
  > = {};
  for (const a of rows) {
    const entry = (allocations[a.consumer_uuid] ??= { resources: {} });
    entry.resources[await ctx.resourceClasses.nameOf(a.resource_class_id)] = a.used;
    if (ctx.version.atLeast('1.28')) entry.consumer_generation = a.consumer_generation;
  }
  return json(
    ctx,
    { allocations, resource_provider_generation: rp.generation },
    lastModifiedOf(rows) ?? new Date(),
  );
};

export const listForConsumer: Handler = async (ctx) => {
  const rows = await ctx.store.allocations.ofConsumer(ctx.param('consumer_uuid'));
  const allocations: Record<
    string,
    { resources: Record<string, number>; generation: number | null }
  > = {};
  for (const a of rows) {
    const entry = (allocations[a.resource_provider_uuid] ??= {
      resources: {},
      generation: a.resource_provider_generation,
    });
    entry.resources[await ctx.resourceClasses.nameOf(a.resource_class_id)] = a.used;
  }
  const body: Record<string, unknown> = { allocations };
  const first = rows[0];
  if (first && ctx.version.atLeast('1.12')) {
    body['project_id'] = first.project_external_id;
    body['user_id'] = first.user_external_id;
    if (ctx.version.atLeast('1.28')) body['consumer_generation'] = first.consumer_generation;
    if (ctx.version.atLeast('1.38')) {
      body['consumer_type'] = await ctx.consumerTypeName(first.consumer_type_id);
    }
  }
  return json(ctx, body, lastModifiedOf(rows) ?? new Date());
};

/** str(uuid.UUID(value)): the dashed lower-case form of a UUID isUuidLike accepted. */
function canonicalUuid(value: string): string {
  const hex = value
    .replace(/urn:/g, '')
    .replace(/uuid:/g, '')
    .replace(/^[{}]+|[{}]+$/g, '')
    .replace(/-/g, '')
    .toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** PUT /allocations/{consumer_uuid}: 204, no body. */
export const putAllocations: Handler = async (ctx) => {
  const given = ctx.param('consumer_uuid');
  if (!isUuidLike(given)) throw badRequest(`Malformed consumer_uuid: ${given}`);
  const consumerUuid = canonicalUuid(given);
  const raw = parseBody(ctx.body, putAllocationsSchema(ctx.version));
  const body = withGenerationText(toPlain(raw) as unknown as PutAllocationsBody, raw);
  await setConsumerAllocations(ctx, consumerUuid, body);
  return empty(204);
};

/** POST /allocations (1.13): 204, no body. */
export const postAllocations: Handler = async (ctx) => {
  const raw = parseBody(ctx.body, postAllocationsSchema(ctx.version));
  await setAllocations(ctx, consumersOf(raw));
  return empty(204);
};

/** DELETE /allocations/{consumer_uuid}: 204, or 404 when the consumer has none. */
export const deleteAllocations: Handler = async (ctx) => {
  await deleteConsumerAllocations(ctx, ctx.param('consumer_uuid'));
  return empty(204);
};

/** The consumers of a POST /allocations (or reshaper) body, each noting its generation as sent. */
export function consumersOf(raw: PyJson): Record<string, ConsumerAllocations> {
  const out = toPlain(raw) as unknown as Record<string, ConsumerAllocations>;
  if (isPyDict(raw)) {
    for (const [uuid, data] of raw) out[uuid] = withGenerationText(out[uuid]!, data);
  }
  return out;
}
