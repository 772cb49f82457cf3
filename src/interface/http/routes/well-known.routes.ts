import { defineRoute } from '../routing/define-route';
import type { RouteDef } from '../routing/route';
import { JWKS_SCHEMA } from '../openapi/schemas';
import { documentFor, renderDocument, sendDocument, type StaticDocument } from '../static-document';
import { HTTP_TOKENS, type JwksSource } from '../http-deps';

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
    staticDocument: jwksDocument,
    async handle(ctx, source) {
      sendDocument(ctx, await jwksDocument(source));
    },
  }),
];

/**
 * RFC 7517 shape, no envelope. Five minutes of caching: the next key is published well before it signs.
 * Rendered once per key set: the source hands out a new object only when the key set changed.
 */
function jwksDocument(source: JwksSource): StaticDocument | Promise<StaticDocument> {
  const jwks = source.jwks();
  return jwks instanceof Promise ? jwks.then(rendered) : rendered(jwks);
}

/** How long a verifier may cache the JWK Set (Cache-Control max-age): a key published more recently may be unknown to one. */
export const JWKS_MAX_AGE_SECONDS = 300;

function rendered(jwks: { keys: Record<string, string>[] }): StaticDocument {
  return documentFor(jwks, () => renderDocument(jwks, `public, max-age=${JWKS_MAX_AGE_SECONDS}`));
}
