import type { SchemaObject } from 'openapi3-ts/oas31';

/** The OAuth endpoints' standard shapes (no envelope). Not importing schemas.ts, which lists these (no cycle). */
type JsonSchema = SchemaObject & Record<string, unknown>;
const jsonSchema = (schema: SchemaObject): JsonSchema => schema as JsonSchema;

/** RFC 6749 §5.1 (client credentials: no refresh token). */
export const OAUTH_TOKEN_SCHEMA = jsonSchema({
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
  properties: {
    access_token: { type: 'string', description: 'A JWT (typ at+jwt) with token_type "service", sub = client id, scope.' },
    token_type: { type: 'string', const: 'Bearer' },
    expires_in: { type: 'integer' },
    scope: { type: 'string', description: 'The granted scopes, space-separated (may be empty).' },
  },
  additionalProperties: false,
});

/** RFC 6749 §5.2 (and §4.1.2.1's temporarily_unavailable for a 503). */
export const OAUTH_ERROR_SCHEMA = jsonSchema({
  type: 'object',
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', enum: ['invalid_request', 'invalid_client', 'unsupported_grant_type', 'invalid_scope', 'slow_down', 'temporarily_unavailable'] },
    error_description: { type: 'string' },
  },
  additionalProperties: false,
});

/** RFC 7662 §2.2: exactly `{active: false}`, or the token's facts. */
export const INTROSPECTION_SCHEMA = jsonSchema({
  oneOf: [
    { type: 'object', required: ['active'], properties: { active: { const: false } }, additionalProperties: false },
    {
      type: 'object',
      required: ['active', 'token_type', 'sub', 'exp'],
      properties: {
        active: { const: true },
        token_type: { type: 'string', enum: ['user', 'service', 'refresh_token'], description: 'CONTRACT §4 kinds; refresh_token for a refresh token.' },
        sub: { type: 'string', description: 'User id, or client id for a service token.' },
        sid: { type: 'string' },
        client_id: { type: 'string' },
        scope: { type: 'string' },
        roles: { type: 'array', items: { type: 'string' } },
        email_verified: { type: 'boolean' },
        amr: { type: 'array', items: { type: 'string' } },
        iss: { type: 'string' },
        aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        exp: { type: 'integer' },
        iat: { type: 'integer' },
        nbf: { type: 'integer' },
        jti: { type: 'string' },
      },
      additionalProperties: false,
    },
  ],
});

/** RFC 8414 §2. */
export const SERVER_METADATA_SCHEMA = jsonSchema({
  type: 'object',
  required: ['issuer', 'token_endpoint', 'jwks_uri', 'grant_types_supported', 'introspection_endpoint', 'revocation_endpoint'],
  properties: {
    issuer: { type: 'string' },
    token_endpoint: { type: 'string', format: 'uri' },
    jwks_uri: { type: 'string', format: 'uri' },
    introspection_endpoint: { type: 'string', format: 'uri' },
    revocation_endpoint: { type: 'string', format: 'uri' },
    grant_types_supported: { type: 'array', items: { type: 'string' } },
    response_types_supported: { type: 'array', items: { type: 'string' } },
    token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
    introspection_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
    revocation_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
    token_endpoint_auth_signing_alg_values_supported: { type: 'array', items: { type: 'string' } },
    service_documentation: { type: 'string', format: 'uri' },
  },
  additionalProperties: false,
});

/** Component names, merged into NAMED_SCHEMAS. */
export const OAUTH_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  OAuthToken: OAUTH_TOKEN_SCHEMA,
  OAuthError: OAUTH_ERROR_SCHEMA,
  Introspection: INTROSPECTION_SCHEMA,
  ServerMetadata: SERVER_METADATA_SCHEMA,
};
