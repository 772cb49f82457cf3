import { HTTP_TOKENS } from '../http-deps';
import { defineRoute } from '../routing/define-route';
import type { RouteDef } from '../routing/route';
import { JWKS_SCHEMA } from '../openapi/schemas';

export const WELL_KNOWN_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: 'GET',
    path: '/.well-known/jwks.json',
    summary: 'The published signing keys (RFC 7517 JWK Set)',
    tags: ['well-known'],
    auth: 'none',
    responses: { 200: { description: 'JWK Set', schema: JWKS_SCHEMA, envelope: false } },
    errors: [],
    uses: HTTP_TOKENS.Jwks,
    async handle(ctx, source) {
      const jwks = await source.jwks();
      // RFC 7517 shape, no envelope. Five minutes of caching: the next key is published well before it signs.
      ctx.set('Cache-Control', 'public, max-age=300');
      ctx.body = jwks;
    },
  }),
];
