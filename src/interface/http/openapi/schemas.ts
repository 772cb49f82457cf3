import type { SchemaObject } from 'openapi3-ts/oas31';
import { OAUTH_SCHEMAS } from './oauth-schemas';

/**
 * JSON Schemas (2020-12, the dialect of OpenAPI 3.1) of what the presenters return (CONTRACT §2). Route entries
 * put them in `responses[status].schema`, alone or composed with `objectSchema`; the document generator turns
 * every one of these very objects into a `$ref` to its component (NAMED_SCHEMAS), so they appear once.
 * Keep them in step with src/interface/http/presenters/ (the presenters' return types are the same members).
 */

/**
 * A schema checked as OpenAPI's SchemaObject that route entries can also hold as `Record<string, unknown>`
 * (ResponseSpec.schema), which an interface type alone is not.
 */
export type JsonSchema = SchemaObject & Record<string, unknown>;

export function jsonSchema(schema: SchemaObject): JsonSchema {
  return schema as JsonSchema;
}

const DATE_TIME = { type: 'string', format: 'date-time' } satisfies SchemaObject;
const NULLABLE_STRING = { type: ['string', 'null'] } satisfies SchemaObject;

/** An object with exactly these members, all required (the presenters always write every member). */
export function objectSchema(properties: Record<string, SchemaObject>, description?: string): JsonSchema {
  return jsonSchema({
    type: 'object',
    ...(description ? { description } : {}),
    required: Object.keys(properties),
    properties,
    additionalProperties: false,
  });
}

const USER_PROPERTIES: Record<string, SchemaObject> = {
    id: { type: 'string', format: 'uuid' },
    // idn-email (RFC 6531), not email (RFC 5321, ASCII): the domain is stored in Unicode form and the local part may be
    // Unicode too (tests/e2e/idn-addresses.test.ts). Declared `email` until an outside review.
    email: {
      type: 'string',
      format: 'idn-email',
      description: 'Canonical form: trimmed, NFKC, lower-case, IDN labels in Unicode form (xn-- labels decoded): `ada@bücher.example`, never `ada@xn--bcher-kva.example`.',
    },
    username: { type: ['string', 'null'], pattern: '^[a-z0-9_.-]{3,32}$' },
    first_name: NULLABLE_STRING,
    last_name: NULLABLE_STRING,
    status: {
      type: 'string',
      enum: ['pending_verification', 'active', 'locked', 'suspended'],
      description: 'locked (admin API only): an active account while a login lockout (too many failed logins) lasts; active again when it ends or is cleared. The owner and /auth/validate see the stored status.',
    },
    email_verified: { type: 'boolean' },
    roles: { type: 'array', items: { type: 'string' } },
    mfa_enabled: { type: 'boolean' },
    created_at: DATE_TIME,
    updated_at: DATE_TIME,
    last_login_at: { type: ['string', 'null'], format: 'date-time' },
};

export const USER_SCHEMA = objectSchema(USER_PROPERTIES, 'An account as returned everywhere: never a hash, secret or token.');

/** The admin API's user (presenters/user.presenter.ts presentAdminUser). */
export const ADMIN_USER_SCHEMA = objectSchema(
  { ...USER_PROPERTIES, locked_until: { type: ['string', 'null'], format: 'date-time', description: 'When the login lockout in effect ends; null without one.' } },
  'An account as the admin API returns it: the user resource and when its login lockout ends.',
);


export const TOKENS_SCHEMA = objectSchema(
  {
    access_token: { type: 'string', description: 'JWT (typ at+jwt), signed with a key published in the JWKS.' },
    refresh_token: { type: 'string', description: 'Opaque; rotates on every use.' },
    token_type: { type: 'string', const: 'Bearer' },
    expires_in: { type: 'integer', minimum: 0, description: "The access token's lifetime in seconds." },
    expires_at: DATE_TIME,
    refresh_expires_at: DATE_TIME,
  },
  'A token pair (RFC 6749 §5.1 members plus expiry instants).',
);

export const SESSION_SCHEMA = objectSchema({
  id: { type: 'string', format: 'uuid' },
  created_at: DATE_TIME,
  last_used_at: DATE_TIME,
  expires_at: DATE_TIME,
  ip: NULLABLE_STRING,
  user_agent: NULLABLE_STRING,
  current: { type: 'boolean', description: 'Whether this is the session of the presented access token.' },
});

const STRINGS = { type: 'array', items: { type: 'string' } } satisfies SchemaObject;
const SECONDS = { type: 'integer', description: 'Seconds since the epoch.' } satisfies SchemaObject;

export const CLAIMS_SCHEMA = objectSchema(
  {
    iss: { type: 'string' },
    aud: { oneOf: [{ type: 'string' }, STRINGS] },
    sub: { type: 'string', description: 'The user id.' },
    sid: { type: 'string', description: 'The session id.' },
    jti: { type: 'string' },
    iat: SECONDS,
    nbf: SECONDS,
    exp: SECONDS,
    roles: STRINGS,
    email_verified: { type: 'boolean' },
    amr: { type: 'array', items: { type: 'string', enum: ['pwd', 'otp'] } },
  },
  "The verified claims of the presented access token (CONTRACT §4).",
);

export const MESSAGE_SCHEMA = objectSchema({ message: { type: 'string' } });
export const USER_DATA_SCHEMA = objectSchema({ user: USER_SCHEMA });
export const USER_AND_TOKENS_SCHEMA = objectSchema({ user: USER_SCHEMA, tokens: TOKENS_SCHEMA });
/** The password step of a login on an account with a second factor: no tokens yet. */
export const MFA_CHALLENGE_SCHEMA = jsonSchema({
  type: 'object',
  description: 'The password was right; finish with POST /api/v1/auth/mfa/verify before expires_in seconds.',
  required: ['mfa_required', 'mfa_token', 'expires_in'],
  properties: {
    mfa_required: { const: true },
    mfa_token: { type: 'string', description: 'Opaque, single use; not an access token.' },
    expires_in: { type: 'integer' },
  },
});
export const LOGIN_RESULT_SCHEMA = jsonSchema({ oneOf: [USER_AND_TOKENS_SCHEMA, MFA_CHALLENGE_SCHEMA] });
export const TOTP_SETUP_SCHEMA = objectSchema({
  secret: { type: 'string', description: 'Base32 (RFC 4648), for typing into an app by hand.' },
  otpauth_uri: { type: 'string' },
  qr_data_url: { type: 'string', description: 'The otpauth URI as a PNG QR code (data: URL).' },
});
export const BACKUP_CODES_SCHEMA = objectSchema({
  backup_codes: { type: 'array', items: { type: 'string' }, minItems: 10, maxItems: 10, description: 'Shown once; each works once.' },
});

export const JWKS_SCHEMA = jsonSchema({
  type: 'object',
  description: 'RFC 7517 JWK Set: public members only.',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kty', 'kid', 'use', 'alg'],
        properties: {
          kty: { type: 'string' },
          kid: { type: 'string' },
          use: { type: 'string', const: 'sig' },
          alg: { type: 'string', enum: ['EdDSA', 'ES256', 'RS256'] },
        },
        // The key type's public members (crv, x, y, n, e).
        additionalProperties: { type: 'string' },
      },
    },
  },
});

const CHECK = { type: 'string', enum: ['up', 'down'] } satisfies SchemaObject;

export const HEALTH_SCHEMA = jsonSchema({
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded', 'unavailable', 'draining'] },
    checks: objectSchema({ database: CHECK, cache: CHECK, broker: CHECK }),
    // Readiness only, and only while this version has migrations the database has not applied (503).
    schema: { type: 'string', enum: ['behind'] },
    pending_migrations: { type: 'integer', minimum: 1 },
  },
  additionalProperties: false,
});

/** The envelope's `meta` (CONTRACT §1). */
export const META_SCHEMA = objectSchema({
  request_id: { type: 'string' },
  timestamp: DATE_TIME,
  version: { type: 'string', const: 'v1' },
});

/** The error envelope's `details` (application/shared/errors.ts, domain/shared/errors.ts): member -> strings. */
export const ERROR_DETAILS_SCHEMA = jsonSchema({
  type: 'object',
  description:
    'Request member -> strings. VALIDATION_ERROR: what is wrong with each member (of the body or the query; `body` for the body as a whole); WEAK_PASSWORD: ' +
    '`password` -> every reason; FORBIDDEN: `session` -> `sign_in_not_recent` or `second_factor_not_recent` (sign in again); CONFLICT: ' +
    '`user_id` -> `self` or `last_active_admin`, `status` -> `suspended`. Absent for the other codes.',
  additionalProperties: { type: 'array', items: { type: 'string' } },
});

/** Component names of the shared schemas: the generator refers to each by `$ref` wherever the object is used. */
export const NAMED_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  User: USER_SCHEMA,
  AdminUser: ADMIN_USER_SCHEMA,
  Tokens: TOKENS_SCHEMA,
  Session: SESSION_SCHEMA,
  Claims: CLAIMS_SCHEMA,
  Message: MESSAGE_SCHEMA,
  Jwks: JWKS_SCHEMA,
  Health: HEALTH_SCHEMA,
  Meta: META_SCHEMA,
  ErrorDetails: ERROR_DETAILS_SCHEMA,
  ...OAUTH_SCHEMAS,
};
