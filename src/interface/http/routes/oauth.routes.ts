import { IntrospectToken } from '@application/oauth/introspect-token';
import { IssueClientToken } from '@application/oauth/issue-client-token';
import { RevokeToken } from '@application/oauth/revoke-token';
import { TokenActionDto, TokenRequestDto } from '../dto/oauth.dto';
import { type AuthorizationServerInfo, HTTP_TOKENS } from '../http-deps';
import type { HttpContext } from '../http-state';
import { BASIC_CHALLENGE_HEADER, RETRY_AFTER as RETRY_AFTER_HEADER } from '../openapi/headers';
import { INTROSPECTION_SCHEMA, OAUTH_ERROR_SCHEMA, OAUTH_TOKEN_SCHEMA, SERVER_METADATA_SCHEMA } from '../openapi/oauth-schemas';
import { presentIntrospection } from '../presenters/introspection.presenter';
import { defineRoute } from '../routing/define-route';
import { documentFor, renderDocument, sendDocument, type StaticDocument } from '../static-document';
import type { ResponseSpec, RouteDef, RouteLimit } from '../routing/route';

export const OAUTH_PATHS = {
  token: '/oauth/token',
  introspect: '/oauth/introspect',
  revoke: '/oauth/revoke',
  metadata: '/.well-known/oauth-authorization-server',
  jwks: '/.well-known/jwks.json',
} as const;

const LIMIT: RouteLimit = { group: 'oauth', identifier: 'client' };
/** Its own quotas (RATE_LIMIT_INTROSPECT_*): a verifier's load must not spend what the client's token requests need. */
const INTROSPECT_LIMIT: RouteLimit = { group: 'introspect', identifier: 'client' };
/** Its own quotas too (RATE_LIMIT_REVOKE_*): a gateway revoking its users' tokens must not spend its token quota. */
const REVOKE_LIMIT: RouteLimit = { group: 'revoke', identifier: 'client' };

/** What every client-authenticated OAuth route can answer besides its success (RFC 6749 §5.2 shape). */
/** As the envelope's 429 and 503 document it (openapi/errors.ts). */
const RETRY_AFTER = { 'Retry-After': RETRY_AFTER_HEADER };

const OAUTH_FAILURES: Record<number, ResponseSpec> = {
  400: { description: 'invalid_request (bad, missing or repeated parameter, two client authentication methods)', schema: OAUTH_ERROR_SCHEMA, envelope: false },
  401: { description: 'invalid_client, with WWW-Authenticate: Basic', schema: OAUTH_ERROR_SCHEMA, envelope: false, headers: { 'WWW-Authenticate': BASIC_CHALLENGE_HEADER } },
  429: { description: 'slow_down: a rate limit (per IP, per client), with Retry-After', schema: OAUTH_ERROR_SCHEMA, envelope: false, headers: RETRY_AFTER },
  503: {
    description: 'temporarily_unavailable: a database or cache away, a concurrent change, or (token) a cut-off ahead of this clock, with Retry-After',
    schema: OAUTH_ERROR_SCHEMA,
    envelope: false,
    headers: RETRY_AFTER,
  },
};

function client(ctx: HttpContext) {
  const authenticated = ctx.state.serviceClient;
  if (!authenticated) throw new Error('client route without the client guard');
  return authenticated;
}

/**
 * RFC 6749 §4.4 (client credentials), RFC 7662 (introspection), RFC 7009 (revocation) and RFC 8414 (metadata):
 * standards-shaped, no envelope (CONTRACT §1). The three POSTs authenticate a service client (HTTP Basic or
 * body, exactly one) and take form-urlencoded or JSON parameters.
 */
export const OAUTH_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: 'POST',
    path: OAUTH_PATHS.token,
    summary: 'Client credentials grant: a service access token (RFC 6749 §4.4)',
    tags: ['oauth'],
    auth: 'client',
    limit: LIMIT,
    body: { dto: TokenRequestDto, form: true },
    errorFormat: 'oauth',
    responses: {
      200: { description: 'A service access token (no refresh token)', schema: OAUTH_TOKEN_SCHEMA, envelope: false },
      ...OAUTH_FAILURES,
      400: { ...OAUTH_FAILURES[400]!, description: 'invalid_request, unsupported_grant_type or invalid_scope' },
    },
    errors: [],
    uses: IssueClientToken,
    async handle(ctx, issue) {
      const { grant_type: grantType, scope } = ctx.state.dto;
      // JSON may say `"scope": null` (the DTO lets null through as absent): no scope asked, like an empty one.
      const token = await issue.execute({ client: client(ctx), grantType, scope: scope === '' || scope === null ? undefined : scope });
      ctx.status = 200;
      ctx.body = { access_token: token.accessToken, token_type: 'Bearer', expires_in: token.expiresIn, scope: token.scope };
    },
  }),
  defineRoute({
    method: 'POST',
    path: OAUTH_PATHS.introspect,
    summary: 'Token introspection (RFC 7662)',
    tags: ['oauth'],
    auth: 'client',
    limit: INTROSPECT_LIMIT,
    body: { dto: TokenActionDto, form: true },
    errorFormat: 'oauth',
    responses: { 200: { description: 'Whether the token is active, and its facts if so', schema: INTROSPECTION_SCHEMA, envelope: false }, ...OAUTH_FAILURES },
    errors: [],
    uses: IntrospectToken,
    async handle(ctx, introspect) {
      client(ctx);
      ctx.status = 200;
      ctx.body = presentIntrospection(await introspect.execute({ token: ctx.state.dto.token }));
    },
  }),
  defineRoute({
    method: 'POST',
    path: OAUTH_PATHS.revoke,
    summary: "Token revocation (RFC 7009): a user token's session ends",
    tags: ['oauth'],
    auth: 'client',
    limit: REVOKE_LIMIT,
    body: { dto: TokenActionDto, form: true },
    errorFormat: 'oauth',
    responses: {
      200: { description: 'Revoked, or nothing to revoke (unknown, garbage, expired): the same answer', schema: { type: 'object', additionalProperties: false }, envelope: false },
      ...OAUTH_FAILURES,
    },
    errors: [],
    uses: RevokeToken,
    async handle(ctx, revoke) {
      await revoke.execute({ token: ctx.state.dto.token, serviceClientId: client(ctx).id, client: ctx.state.client });
      ctx.status = 200;
      ctx.body = {};
    },
  }),
  defineRoute({
    method: 'GET',
    path: OAUTH_PATHS.metadata,
    summary: 'Authorization server metadata (RFC 8414)',
    tags: ['well-known', 'oauth'],
    auth: 'none',
    responses: { 200: { description: 'Server metadata', schema: SERVER_METADATA_SCHEMA, envelope: false } },
    errors: [],
    uses: HTTP_TOKENS.AuthorizationServer,
    staticDocument: metadataDocument,
    async handle(ctx, server) {
      sendDocument(ctx, metadataDocument(server));
    },
  }),
];

/** RFC 8414 metadata of this server: fixed by the configuration, so rendered once per application. */
function metadataDocument(server: AuthorizationServerInfo): StaticDocument {
  return documentFor(server, () => renderDocument(serverMetadata(server), 'public, max-age=300'));
}

function serverMetadata(server: AuthorizationServerInfo) {
  const url = (path: string) => `${server.baseUrl}${path}`;
  const methods = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: server.issuer,
    token_endpoint: url(OAUTH_PATHS.token),
    jwks_uri: url(OAUTH_PATHS.jwks),
    introspection_endpoint: url(OAUTH_PATHS.introspect),
    revocation_endpoint: url(OAUTH_PATHS.revoke),
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    token_endpoint_auth_methods_supported: methods,
    introspection_endpoint_auth_methods_supported: methods,
    revocation_endpoint_auth_methods_supported: methods,
    service_documentation: url('/docs'),
  };
}
