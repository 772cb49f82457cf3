import { HTTP_TOKENS } from '../http-deps';
import { defineRoute } from '../routing/define-route';
import type { RouteDef } from '../routing/route';
import { JWKS_SCHEMA } from '../openapi/schemas';
import { documentFor, renderDocument, sendDocument } from '../static-document';

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
    staticDocument: true,
    async handle(ctx, source) {
      const jwks = await source.jwks();
      // RFC 7517 shape, no envelope. Five minutes of caching: the next key is published well before it signs.
      // Rendered once per key set: the source hands out a new object only when the key set changed.
      sendDocument(ctx, documentFor(jwks, () => renderDocument(jwks, 'public, max-age=300')));
    },
  }),
];
