import type { Router } from '@koa/router';
import type { HttpDeps } from '../http-deps';
import type { HttpState } from '../http-state';

export function registerWellKnownRoutes(router: Router<HttpState>, deps: HttpDeps): void {
  // RFC 7517 shape, no envelope. Five minutes of caching: the next key is published well before it signs.
  router.get('/.well-known/jwks.json', async (ctx) => {
    const jwks = await deps.jwks();
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = jwks;
  });
}
