import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { HeaderObject, OpenAPIObject, OperationObject, ParameterObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import { AuditEventsQueryDto } from '@interface/http/dto/admin.dto';
import { assertSomethingToChange, UpdateCredentialsDto } from '@interface/http/dto/account.dto';
import { checkRegistration, LoginDto, loginIdentifier, RegisterDto } from '@interface/http/dto/auth.dto';
import { MfaVerifyDto, secondFactorProof, TotpDisableDto } from '@interface/http/dto/mfa.dto';
import { toDto } from '@interface/http/dto/validate-dto';
import { buildOpenApiDocument } from '@interface/http/openapi/build-document';
import { ASSET_MEDIA_TYPES, ASSET_NAMES, DocsAssets } from '@interface/http/openapi/docs-page';
import { ERROR_DETAILS_SCHEMA, USER_SCHEMA } from '@interface/http/openapi/schemas';
import { instantParam } from '@interface/http/presenters/admin.presenter';
import { ROUTES } from '@interface/http/routes';

/**
 * The document says what the code does (an outside review found a dozen places where it did not): the request
 * schemas against the DTOs and checks they describe, value by value, and the headers, security and media types
 * against the middleware that sends them. tests/e2e/openapi-conformance.test.ts checks real answers.
 */
const doc: OpenAPIObject = JSON.parse(JSON.stringify(buildOpenApiDocument(ROUTES, { title: 'auth-service', version: '0.0.0-test' })));
const ajv = new Ajv2020({ allErrors: true });
addFormats(ajv);

const component = (name: string) => doc.components!.schemas![name] as SchemaObject;
const operation = (method: string, path: string) => doc.paths![path]![method as 'get'] as OperationObject;
const responses = (method: string, path: string) => operation(method, path).responses as Record<string, ResponseObject>;
const headerNames = (response: ResponseObject | undefined) => Object.keys(response?.headers ?? {});

/** Whether the code takes the value: the DTO's validation and the route's own checks (each throws a 400). */
async function accepts(check: () => Promise<unknown> | unknown): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

function schemaAccepts(schema: SchemaObject, value: unknown): boolean {
  return ajv.validate(schema, value) as boolean;
}

describe('the request schemas say what the DTOs and the routes’ checks accept', () => {
  const PASSWORD = 'any password';

  it.each([
    [{ email: 'ada@example.com', password: PASSWORD }],
    [{ username: 'ada', password: PASSWORD }],
    [{ email: 'ada@example.com', username: '', password: PASSWORD }],
    [{ email: '   ', username: 'ada', password: PASSWORD }],
    [{ email: null, username: 'ada', password: PASSWORD }],
    [{ email: 'ada@example.com', username: 'ada', password: PASSWORD }],
    [{ email: ' ', username: '\t', password: PASSWORD }],
    [{ password: PASSWORD }],
    [{ email: 'ada@example.com' }],
  ])('login %j: exactly one of email or username, a blank one absent', async (body) => {
    const code = await accepts(async () => loginIdentifier(await toDto(LoginDto, body)));
    expect([body, schemaAccepts(component('LoginDto'), body)]).toEqual([body, code]);
  });

  const SECOND_FACTORS = [
    { code: '123456' },
    { code: '123 456', backup_code: null },
    { backup_code: 'abcd-efgh-jkmn' },
    { code: null, backup_code: 'abcdefghjkmn' },
    { code: '123456', backup_code: 'abcdefghjkmn' },
    { code: null, backup_code: null },
    {},
  ];
  it.each(SECOND_FACTORS.map((proof) => [proof]))('second factor %j: exactly one of code or backup_code, null absent', async (proof) => {
    const verify = { mfa_token: 'token', ...proof };
    const disable = { password: PASSWORD, ...proof };
    const verifyCode = await accepts(async () => secondFactorProof(await toDto(MfaVerifyDto, verify)));
    const disableCode = await accepts(async () => secondFactorProof(await toDto(TotpDisableDto, disable)));
    expect([schemaAccepts(component('MfaVerifyDto'), verify), schemaAccepts(component('TotpDisableDto'), disable)]).toEqual([verifyCode, disableCode]);
  });

  it.each([
    [{ current_password: PASSWORD, email: 'new@example.com' }],
    [{ current_password: PASSWORD, username: 'ada' }],
    [{ current_password: PASSWORD, username: null }],
    [{ current_password: PASSWORD, email: 'new@example.com', username: 'ada' }],
    [{ current_password: PASSWORD }],
  ])('credentials %j: email or username', async (body) => {
    const code = await accepts(async () => assertSomethingToChange(await toDto(UpdateCredentialsDto, body)));
    expect([body, schemaAccepts(component('UpdateCredentialsDto'), body)]).toEqual([body, code]);
  });

  it('an admin update names at least one member', () => {
    const schema = component('UpdateUserDto');
    expect([{}, { status: 'active' }, { roles: ['user'] }, { email_verified: true }].map((body) => schemaAccepts(schema, body))).toEqual([false, true, true, true]);
  });

  it('a username the domain accepts is never refused by the schema (spaces, capitals, NFKC forms), and the empty one is', async () => {
    for (const name of ['RegisterDto', 'UpdateProfileDto', 'UpdateCredentialsDto']) {
      const username = (component(name).properties!['username'] as SchemaObject);
      expect([name, username.minLength, username.description]).toEqual([name, 1, expect.stringContaining('3-32 characters of a-z, 0-9')]);
    }
    const schema = component('RegisterDto');
    for (const username of ['ada', '  Ada.L  ', 'ＡＤＡ', 'ﬃ', '', 'ab', 'a b c']) {
      const body = { email: 'ada@example.com', password: PASSWORD, username };
      const code = await accepts(async () => checkRegistration(await toDto(RegisterDto, body)));
      if (code) expect([username, schemaAccepts(schema, body)]).toEqual([username, true]);
    }
    expect(schemaAccepts(schema, { email: 'ada@example.com', password: PASSWORD, username: '' })).toBe(false);
  });

  it('passwords: the policy described where it applies, the DTO bound kept', () => {
    const described = (name: string, member: string) => (component(name).properties![member] as SchemaObject).description ?? '';
    for (const [name, member] of [['RegisterDto', 'password'], ['PasswordResetConfirmDto', 'new_password'], ['PasswordChangeDto', 'new_password']] as const) {
      expect([name, described(name, member)]).toEqual([name, expect.stringMatching(/PASSWORD_MIN_LENGTH \(default 8.*to 128 characters.*NFKC|NFKC.*PASSWORD_MIN_LENGTH \(default 8.*128/)]);
      expect((component(name).properties![member] as SchemaObject).maxLength).toBe(512);
    }
    expect(described('LoginDto', 'password')).toMatch(/current password/);
  });

  it.each(['2026', '2026-01', '2026-01-31', '2026-01-31T10:00:00', '2026-01-31T10:00:00Z', '2026-01-31 10:00', '2026-01-31T10:00+02:00', '0001-01-01', '2026-02-30', '2026-W01', '2026-001', '20260131', '+002026-01-31', 'yesterday'])(
    'audit-events since=%s: a plain string whose pattern refuses nothing the route reads',
    async (value) => {
      const parameter = (operation('get', '/api/v1/admin/audit-events').parameters as ParameterObject[]).find((p) => p.name === 'since')!;
      const schema = parameter.schema as SchemaObject;
      expect(schema.oneOf).toBeUndefined();
      expect(schema.type).toBe('string');
      const code = await accepts(async () => instantParam('since', (await toDto(AuditEventsQueryDto, { since: value })).since));
      const shape = schemaAccepts(schema, value);
      if (code) expect([value, shape]).toEqual([value, true]);
      if (['20260131', '+002026-01-31', 'yesterday', '2026-W01', '2026-001'].includes(value)) expect([value, shape]).toEqual([value, false]);
    },
  );

  it('the form-urlencoded variant of the OAuth bodies holds no null; the JSON one keeps `"scope": null`', () => {
    const token = operation('post', '/oauth/token').requestBody as { content: Record<string, { schema: { $ref: string } }> };
    const form = component(token.content['application/x-www-form-urlencoded']!.schema.$ref.split('/').pop()!);
    const json = component(token.content['application/json']!.schema.$ref.split('/').pop()!);
    expect(JSON.stringify(form)).not.toContain('"null"');
    expect((json.properties!['scope'] as SchemaObject).type).toEqual(['string', 'null']);
    // Body credentials come as a pair (client-guard.ts).
    expect(schemaAccepts(form, { grant_type: 'client_credentials', client_id: 'x' })).toBe(false);
    expect(schemaAccepts(form, { grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' })).toBe(true);
  });
});

describe('the response side: formats, headers, security, media types', () => {
  it('an account’s email is an internationalised address (idn-email), as the service stores IDN domains in Unicode', () => {
    expect((USER_SCHEMA.properties!['email'] as SchemaObject).format).toBe('idn-email');
    expect(JSON.stringify(doc)).not.toContain('"format":"email"');
  });

  it('ErrorDetails names every code that carries details', () => {
    expect(ERROR_DETAILS_SCHEMA.description).toEqual(expect.stringContaining('FORBIDDEN'));
    expect(ERROR_DETAILS_SCHEMA.description).toEqual(expect.stringContaining('CONFLICT'));
  });

  it('every answer of a rate-limited route documents RateLimit-Policy and RateLimit; no other route does', () => {
    const limited = ROUTES.filter((route) => route.limit);
    expect(limited.length).toBeGreaterThan(15);
    for (const route of ROUTES) {
      const path = route.path.replace(/:([A-Za-z_]\w*)/g, '{$1}');
      for (const [status, response] of Object.entries(responses(route.method.toLowerCase(), path))) {
        const names = headerNames(response);
        const expected = route.limit ? ['RateLimit-Policy', 'RateLimit'] : [];
        expect([route.method, route.path, status, names.filter((n) => n.startsWith('RateLimit'))]).toEqual([route.method, route.path, status, expected]);
      }
    }
    // A 429 always says when to come back; slow_down too.
    for (const path of ['/api/v1/auth/login', '/oauth/token']) expect((responses('post', path)['429']!.headers!['Retry-After'] as HeaderObject).required).toBe(true);
  });

  it('challenges: FORBIDDEN is insufficient_scope, invalid_client is Basic; a wrong password’s 401 has none', () => {
    const stats = responses('get', '/api/v1/admin/stats');
    expect(stats['403']!.headers!['WWW-Authenticate']).toMatchObject({ required: true, description: expect.stringContaining('insufficient_scope') });
    expect(headerNames(responses('post', '/api/v1/auth/login')['403'])).not.toContain('WWW-Authenticate');
    expect(responses('post', '/oauth/token')['401']!.headers!['WWW-Authenticate']).toMatchObject({ required: true });
    expect(headerNames(responses('post', '/api/v1/auth/login')['401'])).not.toContain('WWW-Authenticate');
    // DELETE /users/me: a missing token's 401 has the challenge, a wrong password's not: documented, not required.
    expect((responses('delete', '/api/v1/users/me')['401']!.headers!['WWW-Authenticate'] as HeaderObject).required).toBe(false);
  });

  it('/metrics: public, or a bearer METRICS_TOKEN when one is configured', () => {
    expect(operation('get', '/metrics').security).toEqual([{}, { metricsToken: [] }]);
    expect(doc.components!.securitySchemes!['metricsToken']).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('GET /users/me documents no 404 (a deleted account’s token is INVALID_TOKEN)', () => {
    expect(responses('get', '/api/v1/users/me')['404']).toBeUndefined();
  });

  it('/docs/assets/{file}: the allow-list as the parameter, each media type it is served with', async () => {
    const asset = operation('get', '/docs/assets/{file}');
    expect(((asset.parameters as ParameterObject[])[0]!.schema as SchemaObject).enum).toEqual([...ASSET_NAMES]);
    expect(Object.keys((asset.responses as Record<string, ResponseObject>)['200']!.content!).sort()).toEqual([...ASSET_MEDIA_TYPES].sort());
    const assets = new DocsAssets();
    const served = await Promise.all(ASSET_NAMES.map(async (name) => (await assets.get(name)!).contentType));
    expect([...new Set(served)].sort()).toEqual([...ASSET_MEDIA_TYPES].sort());
  });
});
