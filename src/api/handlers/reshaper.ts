/** POST /reshaper (1.30). */
import { readJsonBody } from '../body.js';
import { reshape, type ReshaperBody } from '../ops/reshaper.js';
import { empty, type Handler } from '../response.js';
import { reshaperSchema } from '../schemas/reshaper.js';

/** 204, no body. */
export const postReshaper: Handler = async (ctx) => {
  const body = readJsonBody(ctx.body, reshaperSchema(ctx.version)) as ReshaperBody;
  await reshape(ctx, body);
  return empty(204);
};
