import { Validator } from '@seriousme/openapi-schema-validator';
import type { OpenAPIObject, ReferenceObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import { LoginDto, LogoutDto, RegisterDto } from '@interface/http/dto/auth.dto';
import { UpdateCredentialsDto, UpdateProfileDto } from '@interface/http/dto/account.dto';
import { buildOpenApiDocument } from '@interface/http/openapi/build-document';
import { CLAIMS_SCHEMA, MESSAGE_SCHEMA, TOKENS_SCHEMA, USER_SCHEMA, objectSchema } from '@interface/http/openapi/schemas';
import type { UserClaimsView } from '@interface/http/presenters/claims.presenter';
import type { SessionView } from '@interface/http/presenters/session.presenter';
import type { TokensView } from '@interface/http/presenters/tokens.presenter';
import type { UserView } from '@interface/http/presenters/user.presenter';
import { SESSION_SCHEMA } from '@interface/http/openapi/schemas';
import { DOCS_ROUTES } from '@interface/http/routes/docs.routes';
import type { RouteDef } from '@interface/http/routing/route';

const INFO = { title: 'auth-service', version: '0.0.0-test' };
const handle = async (): Promise<void> => undefined;
const byEmail = (body: Record<string, unknown>) => (typeof body['email'] === 'string' ? body['email'] : null);

/** A small table shaped like the real one: bodies, bearer, a role, a client, a path parameter, no envelope. */
const ROUTES: RouteDef[] = [
  {
    method: 'POST',
    path: '/api/v1/auth/register',
    summary: 'Register an account',
    tags: ['auth'],
    auth: 'none',
    limit: { group: 'register', identifier: byEmail },
    body: { dto: RegisterDto },
    responses: {
      201: { description: 'Registered and signed in.', schema: objectSchema({ user: USER_SCHEMA, tokens: TOKENS_SCHEMA }) },
      202: { description: 'Check your mailbox.', schema: MESSAGE_SCHEMA },
    },
    errors: ['EMAIL_ALREADY_REGISTERED', 'USERNAME_TAKEN', 'WEAK_PASSWORD'],
    handle,
  },
  {
    method: 'POST',
    path: '/api/v1/auth/login',
    summary: 'Log in',
    tags: ['auth'],
    auth: 'none',
    limit: { group: 'login', identifier: byEmail },
    body: { dto: LoginDto },
    responses: { 200: { description: 'Signed in.', schema: objectSchema({ user: USER_SCHEMA, tokens: TOKENS_SCHEMA }) } },
    errors: ['INVALID_CREDENTIALS', 'ACCOUNT_LOCKED', 'EMAIL_NOT_VERIFIED', 'ACCOUNT_DISABLED'],
    handle,
  },
  {
    method: 'POST',
    path: '/api/v1/auth/logout',
    summary: 'Log out',
    tags: ['auth'],
    auth: 'user',
    body: { dto: LogoutDto, optional: true },
    responses: { 200: { description: 'Logged out.', schema: MESSAGE_SCHEMA } },
    errors: [],
    handle,
  },
  {
    method: 'GET',
    path: '/api/v1/auth/validate',
    summary: 'Validate an access token',
    tags: ['auth'],
    auth: 'user',
    responses: {
      200: { description: 'Valid.', schema: objectSchema({ valid: { const: true }, user: USER_SCHEMA, claims: CLAIMS_SCHEMA }) },
    },
    errors: [],
    handle,
  },
  {
    method: 'PATCH',
    path: '/api/v1/users/me',
    summary: 'Update my profile',
    tags: ['users'],
    auth: 'user',
    body: { dto: UpdateProfileDto },
    responses: { 200: { description: 'Updated.', schema: objectSchema({ user: USER_SCHEMA }) } },
    errors: ['USERNAME_TAKEN'],
    handle,
  },
  {
    method: 'PUT',
    path: '/api/v1/users/me/credentials',
    summary: 'Change my email or username',
    tags: ['users'],
    auth: 'user',
    body: { dto: UpdateCredentialsDto },
    responses: { 200: { description: 'Updated.', schema: objectSchema({ user: USER_SCHEMA }) } },
    errors: ['INVALID_CREDENTIALS', 'USERNAME_TAKEN'],
    handle,
  },
  {
    method: 'DELETE',
    path: '/api/v1/admin/users/:id/sessions/:sessionId',
    summary: 'Revoke a session of a user',
    tags: ['admin'],
    auth: { role: 'admin' },
    responses: { 200: { description: 'Revoked.', schema: MESSAGE_SCHEMA } },
    errors: ['NOT_FOUND'],
    handle,
  },
  {
    method: 'POST',
    path: '/oauth/introspect',
    summary: 'Introspect a token (RFC 7662)',
    tags: ['oauth'],
    auth: 'client',
    responses: { 200: { description: 'Token state.', schema: { type: 'object', required: ['active'] }, envelope: false } },
    errors: [],
    handle,
  },
  ...DOCS_ROUTES,
];

const validator = () => new Validator();

function op(doc: OpenAPIObject, method: string, path: string) {
  const operation = doc.paths?.[path]?.[method as 'get'];
  if (!operation) throw new Error(`${method} ${path} is not in the document`);
  return operation;
}

function component(doc: OpenAPIObject, ref: SchemaObject | ReferenceObject | undefined): SchemaObject {
  const name = (ref as ReferenceObject | undefined)?.$ref?.replace('#/components/schemas/', '');
  const schema = name === undefined ? undefined : doc.components?.schemas?.[name];
  if (!schema) throw new Error(`not a component reference: ${JSON.stringify(ref)}`);
  return schema as SchemaObject;
}

function jsonSchemaOf(response: unknown): SchemaObject {
  return (response as ResponseObject).content!['application/json']!.schema as SchemaObject;
}

function responsesOf(doc: OpenAPIObject, method: string, path: string): Record<string, ResponseObject> {
  return op(doc, method, path).responses as Record<string, ResponseObject>;
}

/** The `error.code` enum of an error response. */
function codesIn(response: ResponseObject | undefined): string[] {
  const error = jsonSchemaOf(response).properties?.['error'] as SchemaObject;
  return (error.properties?.['code'] as SchemaObject).enum as string[];
}

describe('OpenAPI document from the route table', () => {
  const doc = buildOpenApiDocument(ROUTES, INFO);

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await validator().validate(JSON.parse(JSON.stringify(doc)));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('fails validation when the document is broken (the check can fail)', async () => {
    const broken = JSON.parse(JSON.stringify(doc));
    broken.paths['/api/v1/auth/login'].post.responses['200'] = { content: {} }; // no description
    expect((await validator().validate(broken)).valid).toBe(false);
    const dangling = JSON.parse(JSON.stringify(doc));
    dangling.paths['/api/v1/auth/login'].post.requestBody.content['application/json'].schema = { $ref: '#/components/schemas/Nope' };
    expect((await validator().validate(dangling)).valid).toBe(false);
  });

  it('has one operation per entry with its method, summary, tags and path parameters', () => {
    const count = Object.values(doc.paths ?? {}).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(count).toBe(ROUTES.length);
    const revoke = op(doc, 'delete', '/api/v1/admin/users/{id}/sessions/{sessionId}');
    expect(revoke.summary).toBe('Revoke a session of a user');
    expect(revoke.tags).toEqual(['admin']);
    // `id` names an account or a session: a UUID (the repositories find nothing else, answered 404 NOT_FOUND).
    expect(revoke.parameters).toEqual([
      { name: 'id', in: 'path', required: true, description: expect.stringContaining('404 NOT_FOUND'), schema: { type: 'string', format: 'uuid' } },
      { name: 'sessionId', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    const ids = Object.values(doc.paths ?? {}).flatMap((item) => Object.values(item).map((o) => (o as { operationId: string }).operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('derives the request schema from the DTO class: types, bounds, required, nullable, no extra members', () => {
    const register = component(doc, jsonSchemaOf(op(doc, 'post', '/api/v1/auth/register').requestBody));
    expect(register).toMatchObject({
      type: 'object',
      required: ['email', 'password'],
      additionalProperties: false,
      properties: {
        email: { type: 'string', maxLength: 254 },
        password: { type: 'string', maxLength: 512 },
        username: { type: ['string', 'null'], maxLength: 32 },
        first_name: { type: ['string', 'null'], maxLength: 100 },
      },
    });
    expect(JSON.stringify(register)).not.toContain('#/definitions');
    const logout = op(doc, 'post', '/api/v1/auth/logout');
    expect((logout.requestBody as { required: boolean }).required).toBe(false);
    expect(component(doc, jsonSchemaOf(logout.requestBody)).properties?.['scope']).toMatchObject({ enum: ['local', 'others', 'global', null] });
    // ValidateIf(value !== undefined): optional, but null is not accepted.
    const credentials = component(doc, jsonSchemaOf(op(doc, 'put', '/api/v1/users/me/credentials').requestBody));
    expect(credentials.required).toEqual(['current_password']);
    expect(credentials.properties?.['email']).toMatchObject({ type: 'string' });
  });

  it('wraps the data schema in the success envelope, or not when envelope is false', () => {
    const login = jsonSchemaOf(responsesOf(doc, 'post', '/api/v1/auth/login')['200']);
    expect(login.required).toEqual(['success', 'data', 'meta']);
    const data = login.properties?.['data'] as SchemaObject;
    expect(data.properties?.['user']).toEqual({ $ref: '#/components/schemas/User' });
    expect(data.properties?.['tokens']).toEqual({ $ref: '#/components/schemas/Tokens' });
    expect(component(doc, { $ref: '#/components/schemas/User' }).required).toContain('email_verified');
    const introspect = jsonSchemaOf(responsesOf(doc, 'post', '/oauth/introspect')['200']);
    expect(introspect).toEqual({ type: 'object', required: ['active'] });
    const page = responsesOf(doc, 'get', '/docs')['200'];
    expect(Object.keys(page?.content ?? {})).toEqual(['text/html']);
  });

  it("lists the route's error codes under the status the error mapper gives them, in the error envelope", () => {
    const login = responsesOf(doc, 'post', '/api/v1/auth/login');
    const codesAt = (status: number) => codesIn(login[String(status)]);
    expect(codesAt(401)).toEqual(['INVALID_CREDENTIALS']);
    expect(codesAt(403)).toEqual(['ACCOUNT_DISABLED', 'EMAIL_NOT_VERIFIED']);
    expect(codesAt(429)).toEqual(['ACCOUNT_LOCKED', 'RATE_LIMITED']);
    expect(codesAt(400)).toEqual(['BAD_REQUEST', 'MALFORMED_JSON', 'VALIDATION_ERROR']);
    expect(codesAt(413)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(codesAt(415)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    expect(codesAt(500)).toEqual(['INTERNAL_ERROR']);
    expect(login['429']?.headers?.['Retry-After']).toBeDefined();
    // A wrong password's 401 has no challenge; a missing or bad bearer token's has (error-mapper.ts).
    expect(login['401']?.headers?.['WWW-Authenticate']).toBeUndefined();
    expect(responsesOf(doc, 'get', '/api/v1/auth/validate')['401']?.headers?.['WWW-Authenticate']).toBeDefined();
    expect(codesIn(responsesOf(doc, 'post', '/api/v1/auth/register')['409'])).toEqual([
      'EMAIL_ALREADY_REGISTERED',
      'USERNAME_TAKEN',
    ]);
    const revoke = responsesOf(doc, 'delete', '/api/v1/admin/users/{id}/sessions/{sessionId}');
    expect(Object.keys(revoke).sort()).toEqual(['200', '400', '401', '403', '404', '500', '503']);
    // What may reach the database or the cache documents the 503 an outage gets, with Retry-After.
    expect(codesAt(503)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(login['503']?.headers?.['Retry-After']).toBeDefined();
    // A route without a body or a bearer documents no 401, 413 or 415.
    expect(Object.keys(responsesOf(doc, 'get', '/openapi.json')).sort()).toEqual(['200', '400', '500']);
  });

  it('declares the security schemes and each operation’s requirement from its auth', () => {
    expect(doc.components?.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      client: { type: 'http', scheme: 'basic' },
    });
    expect(op(doc, 'post', '/api/v1/auth/login').security).toBeUndefined();
    expect(op(doc, 'get', '/api/v1/auth/validate').security).toEqual([{ bearer: [] }]);
    expect(op(doc, 'delete', '/api/v1/admin/users/{id}/sessions/{sessionId}').security).toEqual([{ bearer: ['admin'] }]);
    // client_secret_basic or client_secret_post (client-guard.ts), exactly one: the body's is the `{}` alternative.
    expect(op(doc, 'post', '/oauth/introspect').security).toEqual([{ client: [] }, {}]);
    expect(op(doc, 'post', '/oauth/introspect').description).toMatch(/exactly one of: HTTP Basic.*client_secret_post/);
  });

  it('describes exactly the members the presenters write (the records fail to compile when a view changes)', () => {
    const user: Record<keyof UserView, true> = {
      id: true, email: true, username: true, first_name: true, last_name: true, status: true, email_verified: true,
      roles: true, mfa_enabled: true, created_at: true, updated_at: true, last_login_at: true,
    };
    const tokens: Record<keyof TokensView, true> = {
      access_token: true, refresh_token: true, token_type: true, expires_in: true, expires_at: true, refresh_expires_at: true,
    };
    const session: Record<keyof SessionView, true> = {
      id: true, created_at: true, last_used_at: true, expires_at: true, ip: true, user_agent: true, current: true,
    };
    const claims: Record<keyof UserClaimsView, true> = {
      iss: true, aud: true, sub: true, sid: true, jti: true, iat: true, nbf: true, exp: true, roles: true, email_verified: true, amr: true,
    };
    const members = (schema: SchemaObject) => Object.keys(schema.properties ?? {}).sort();
    expect(members(USER_SCHEMA)).toEqual(Object.keys(user).sort());
    expect(members(TOKENS_SCHEMA)).toEqual(Object.keys(tokens).sort());
    expect(members(SESSION_SCHEMA)).toEqual(Object.keys(session).sort());
    expect(members(CLAIMS_SCHEMA)).toEqual(Object.keys(claims).sort());
  });

  it('refuses a table with the same method and path twice', () => {
    expect(() => buildOpenApiDocument([...ROUTES, ROUTES[0]!], INFO)).toThrow('duplicate route POST /api/v1/auth/register');
  });
});
