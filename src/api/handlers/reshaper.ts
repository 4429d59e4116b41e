/** POST /reshaper (1.30). */
import { parseBody } from '../json-schema.js';
import { reshape, type ReshaperBody } from '../ops/reshaper.js';
import { isPyDict, toPlain } from '../py-json.js';
import { empty, type Handler } from '../response.js';
import { reshaperSchema } from '../schemas/reshaper.js';
import { consumersOf } from './allocations.js';

/** 204, no body. */
export const postReshaper: Handler = async (ctx) => {
  const raw = parseBody(ctx.body, reshaperSchema(ctx.version));
  const body = toPlain(raw) as unknown as ReshaperBody;
  const allocations = isPyDict(raw) ? raw.get('allocations') : undefined;
  if (allocations !== undefined) body.allocations = consumersOf(allocations);
  await reshape(ctx, body);
  return empty(204);
};
