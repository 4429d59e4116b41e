/** GET /: version discovery, the one route that needs no token. */
import { MAX_VERSION, MIN_VERSION } from '../microversion.js';
import { json, type Handler } from '../response.js';

export const home: Handler = async (ctx) =>
  json(
    ctx,
    {
      versions: [
        {
          id: `v${MIN_VERSION}`,
          max_version: MAX_VERSION.toString(),
          min_version: MIN_VERSION.toString(),
          status: 'CURRENT',
          links: [{ rel: 'self', href: '' }],
        },
      ],
    },
    new Date(),
  );
