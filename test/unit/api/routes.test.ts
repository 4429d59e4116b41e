import { describe, expect, it } from 'vitest';
import { Router } from '../../../src/api/routes.js';

describe('Router', () => {
  const router = new Router();

  it('names a path parameter up to the next slash', () => {
    const m = router.match('/resource_providers/abc/traits');
    expect(m?.route.pattern).toBe('/resource_providers/{uuid}/traits');
    expect(m?.params).toEqual({ uuid: 'abc' });
  });

  it('takes one final newline as absent, as Python’s $ does in the routes library', () => {
    expect(router.match('/traits/CUSTOM_X\n')?.params).toEqual({ name: 'CUSTOM_X' });
    expect(router.match('/resource_classes\n')?.route.pattern).toBe('/resource_classes');
    expect(router.match('/traits/CUSTOM_X\n\n')?.params).toEqual({ name: 'CUSTOM_X\n' });
    expect(router.match('/resource_providers/a\n/traits')?.params).toEqual({ uuid: 'a\n' });
  });
});
