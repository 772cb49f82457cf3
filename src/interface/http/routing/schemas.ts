/**
 * JSON Schemas (2020-12) of the response `data` the presenters produce, for the route tables' `responses`
 * (and so the OpenAPI document). They mirror the presenters' view types field for field.
 */
type Schema = Record<string, unknown>;

const string: Schema = { type: 'string' };
const nullableString: Schema = { type: ['string', 'null'] };
const dateTime: Schema = { type: 'string', format: 'date-time' };
const strings: Schema = { type: 'array', items: string };

function object(properties: Record<string, Schema>): Schema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

export const USER_SCHEMA = object({
  id: { type: 'string', format: 'uuid' },
  email: { type: 'string', format: 'email' },
  username: nullableString,
  first_name: nullableString,
  last_name: nullableString,
  status: { enum: ['pending_verification', 'active', 'locked', 'suspended'] },
  email_verified: { type: 'boolean' },
  roles: strings,
  mfa_enabled: { type: 'boolean' },
  created_at: dateTime,
  updated_at: dateTime,
  last_login_at: { type: ['string', 'null'], format: 'date-time' },
});

export const TOKENS_SCHEMA = object({
  access_token: string,
  refresh_token: string,
  token_type: { const: 'Bearer' },
  expires_in: { type: 'integer' },
  expires_at: dateTime,
  refresh_expires_at: dateTime,
});

export const SESSION_SCHEMA = object({
  id: { type: 'string', format: 'uuid' },
  created_at: dateTime,
  last_used_at: dateTime,
  expires_at: dateTime,
  ip: nullableString,
  user_agent: nullableString,
  current: { type: 'boolean' },
});

export const CLAIMS_SCHEMA = object({
  iss: string,
  aud: { anyOf: [string, strings] },
  sub: string,
  sid: string,
  jti: string,
  iat: { type: 'integer' },
  nbf: { type: 'integer' },
  exp: { type: 'integer' },
  roles: strings,
  email_verified: { type: 'boolean' },
  amr: strings,
});

export const MESSAGE_SCHEMA = object({ message: string });
export const USER_DATA_SCHEMA = object({ user: USER_SCHEMA });
export const USER_AND_TOKENS_SCHEMA = object({ user: USER_SCHEMA, tokens: TOKENS_SCHEMA });

const checks = { enum: ['up', 'down'] };
export const HEALTH_SCHEMA: Schema = {
  type: 'object',
  properties: {
    status: { enum: ['ok', 'unavailable'] },
    checks: object({ database: checks, cache: checks, broker: checks }),
  },
  required: ['status'],
};

export const JWKS_SCHEMA: Schema = {
  type: 'object',
  properties: { keys: { type: 'array', items: { type: 'object', required: ['kid', 'kty', 'use', 'alg'] } } },
  required: ['keys'],
};
