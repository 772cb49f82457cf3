import { readFileSync } from 'node:fs';
import { domainToASCII } from 'node:url';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Response } from 'supertest';
import type { HeaderObject, OpenAPIObject, OperationObject, ParameterObject, ResponseObject, SchemaObject, SecuritySchemeObject } from 'openapi3-ts/oas31';
import { CreateAdmin } from '@application/admin/create-admin';
import { basic, createClient, form, type TestClient } from '../support/oauth';
import { PASSWORD, signUp, startSecureApp, type TestApp } from '../support/app';
import { oathtool } from '../support/totp';

/**
 * The OpenAPI document against the service's real answers (an outside review found the document and the code apart in
 * a dozen places, and nothing checked one against the other). A representative run through the API, on the embedded
 * setup; for every answer:
 * - its status is documented for the operation;
 * - its body validates against the documented schema of its media type (JSON Schema 2020-12, formats asserted);
 * - every header the document requires is sent, and the rate-limit, retry and challenge headers sent are documented
 *   (and their values match the documented schema);
 * - a success's credentials are a documented security alternative (none: `{}` or no requirement), and what it sent
 *   (body, query, path parameters) validates against the documented request: the document must not refuse what the
 *   service accepts.
 * Every mismatch is listed, not only the first. OPENAPI_CONFORMANCE_DOCUMENT=<file> checks the answers against that
 * document instead of the one the service serves (e.g. an earlier version's, to see that the test can fail).
 */

const METRICS_TOKEN = 'metrics-scrape-secret-0123456789';
const ADA = 'ada@bücher.example';

/** RFC 6531 (SMTPUTF8): a dot-atom or quoted local part that may hold any non-ASCII, and a domain IDNA can encode. */
const IDN_LOCAL = /^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\u{10FFFF}-]+)*|"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\u{10FFFF}]|\\[\x20-\x7e])*")$/u;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
function isIdnEmail(value: string): boolean {
  const at = value.lastIndexOf('@');
  return at > 0 && IDN_LOCAL.test(value.slice(0, at)) && HOSTNAME.test(domainToASCII(value.slice(at + 1)));
}

/** The headers whose presence the document must account for whenever the service sends them. */
const WATCHED_HEADERS = ['ratelimit-policy', 'ratelimit', 'retry-after', 'www-authenticate'];

type Credentials = { kind: 'none' } | { kind: 'http'; scheme: 'bearer' | 'basic' };

interface Sent {
  method: string;
  path: string;
  credentials: Credentials;
  /** The parsed body as sent, and its media type. */
  body?: { mediaType: string; value: Record<string, unknown> };
}

class Conformance {
  readonly failures: string[] = [];
  /** `METHOD template status` of every answer checked. */
  readonly seen = new Set<string>();
  /**
   * Strict (unknown keywords and formats refused, formats asserted), but for strictRequired, a lint that refuses the
   * usual `anyOf: [{required: [a]}, {required: [b]}]` of a rule across members.
   */
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; pattern: RegExp; params: string[] }[];

  constructor(private readonly doc: OpenAPIObject) {
    addFormats(this.ajv);
    this.ajv.addFormat('idn-email', { type: 'string', validate: isIdnEmail });
    // Component references as references into one schema of its own.
    const schemas = JSON.parse(JSON.stringify(doc.components?.schemas ?? {}).replaceAll('"#/components/schemas/', '"components#/$defs/'));
    this.ajv.addSchema({ $id: 'components', $defs: schemas });
    this.templates = Object.keys(doc.paths ?? {})
      .map((template) => ({
        template,
        params: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '([^/]+)')}$`),
      }))
      // A literal path wins over a template with parameters.
      .sort((a, b) => a.params.length - b.params.length);
  }

  check(sent: Sent, res: Response): void {
    const url = new URL(sent.path, 'http://x');
    const match = this.templates.find((t) => t.pattern.test(url.pathname));
    const method = sent.method.toLowerCase() as 'get';
    const operation = match ? (this.doc.paths?.[match.template]?.[method] as OperationObject | undefined) : undefined;
    const name = `${sent.method} ${match?.template ?? url.pathname} ${res.status}`;
    this.seen.add(name);
    if (!match || !operation) return void this.failures.push(`${name}: no such operation in the document`);
    const response = (operation.responses as Record<string, ResponseObject>)[String(res.status)];
    if (!response) return void this.failures.push(`${name}: status not documented (documented: ${Object.keys(operation.responses ?? {}).join(', ')})`);
    this.body(name, response, res);
    this.headers(name, response, res);
    if (res.status >= 200 && res.status < 300) {
      this.security(name, operation, sent.credentials);
      const params = Object.fromEntries(match.params.map((p, i) => [p, decodeURIComponent(match.pattern.exec(url.pathname)![i + 1]!)]));
      this.request(name, operation, sent, params, Object.fromEntries(url.searchParams));
    }
  }

  private body(name: string, response: ResponseObject, res: Response): void {
    const contentType = res.headers['content-type'] as string | undefined;
    if (contentType === undefined) {
      if (response.content && Object.keys(response.content).length > 0 && res.status !== 304) this.failures.push(`${name}: no body, one documented`);
      return;
    }
    const essence = (type: string) => type.split(';')[0]!.trim().toLowerCase();
    const documented = Object.entries(response.content ?? {}).find(([type]) => essence(type) === essence(contentType));
    if (!documented) return void this.failures.push(`${name}: media type ${contentType} not documented (documented: ${Object.keys(response.content ?? {}).join(', ') || 'none'})`);
    const schema = documented[1].schema as SchemaObject | undefined;
    if (schema === undefined || essence(contentType) !== 'application/json') return;
    this.validate(`${name} body`, schema, res.body);
  }

  private headers(name: string, response: ResponseObject, res: Response): void {
    const documented = new Map(Object.entries(response.headers ?? {}).map(([header, spec]) => [header.toLowerCase(), spec as HeaderObject]));
    for (const [header, spec] of documented) {
      if (spec.required && res.headers[header] === undefined) this.failures.push(`${name}: required header ${header} not sent`);
    }
    for (const header of WATCHED_HEADERS) {
      const value = res.headers[header] as string | undefined;
      if (value === undefined) continue;
      const spec = documented.get(header);
      if (!spec) {
        this.failures.push(`${name}: header ${header} sent (${value}) but not documented`);
        continue;
      }
      const schema = (spec.schema ?? {}) as SchemaObject;
      this.validate(`${name} header ${header}`, schema, schema.type === 'integer' && /^\d+$/.test(value) ? Number(value) : value);
    }
  }

  /** A success with no credential header needs a `{}` requirement or none; one with Bearer or Basic, a scheme of that kind. */
  private security(name: string, operation: OperationObject, credentials: Credentials): void {
    const requirements = operation.security ?? this.doc.security ?? [];
    if (requirements.length === 0) {
      if (credentials.kind === 'http') this.failures.push(`${name}: succeeded with ${credentials.scheme} credentials on an operation documented as public`);
      return;
    }
    const schemes = (this.doc.components?.securitySchemes ?? {}) as Record<string, SecuritySchemeObject>;
    const satisfied = requirements.some((requirement) => {
      const names = Object.keys(requirement);
      if (credentials.kind === 'none') return names.length === 0;
      return names.length > 0 && names.every((n) => schemes[n]?.type === 'http' && schemes[n]?.scheme?.toLowerCase() === credentials.scheme);
    });
    if (!satisfied) this.failures.push(`${name}: succeeded with ${credentials.kind === 'none' ? 'no credential header' : credentials.scheme}, not a documented security alternative (${JSON.stringify(requirements)})`);
  }

  private request(name: string, operation: OperationObject, sent: Sent, path: Record<string, string>, query: Record<string, string>): void {
    const parameters = (operation.parameters ?? []) as ParameterObject[];
    for (const [where, values] of [['path', path], ['query', query]] as const) {
      for (const [param, value] of Object.entries(values)) {
        const spec = parameters.find((p) => p.in === where && p.name === param);
        if (!spec) this.failures.push(`${name}: ${where} parameter ${param} accepted but not documented`);
        else this.validate(`${name} ${where} parameter ${param}=${value}`, (spec.schema ?? {}) as SchemaObject, value);
      }
    }
    if (!sent.body) return;
    const content = (operation.requestBody as { content?: Record<string, { schema?: SchemaObject }> } | undefined)?.content ?? {};
    const documented = content[sent.body.mediaType];
    if (!documented) return void this.failures.push(`${name}: request media type ${sent.body.mediaType} accepted but not documented`);
    this.validate(`${name} request body`, documented.schema ?? {}, sent.body.value);
  }

  private validate(what: string, schema: SchemaObject, value: unknown): void {
    const rewritten = JSON.stringify(schema).replaceAll('"#/components/schemas/', '"components#/$defs/');
    let validate = this.compiled.get(rewritten);
    if (!validate) {
      validate = this.ajv.compile(JSON.parse(rewritten) as object);
      this.compiled.set(rewritten, validate);
    }
    if (!validate(value)) {
      const errors = (validate.errors ?? []).slice(0, 4).map((e) => `${e.instancePath || '/'} ${e.message}`);
      this.failures.push(`${what}: ${errors.join('; ')} (value: ${JSON.stringify(value).slice(0, 160)})`);
    }
  }
}

describe('the OpenAPI document says what the service answers (conformance)', () => {
  let t: TestApp;
  let conformance: Conformance;

  beforeAll(async () => {
    t = await startSecureApp('embedded', {
      METRICS_TOKEN,
      // Small quotas where a 429 is part of the run; the other groups keep their defaults (and their headers).
      RATE_LIMIT_PASSWORD_RESET_IP: '2/1h',
      RATE_LIMIT_REVOKE_IP: '2/1h',
    });
    const served = await t.http.get('/openapi.json').expect(200);
    const file = process.env['OPENAPI_CONFORMANCE_DOCUMENT'];
    conformance = new Conformance(file ? (JSON.parse(readFileSync(file, 'utf8')) as OpenAPIObject) : (served.body as OpenAPIObject));
    conformance.check({ method: 'GET', path: '/openapi.json', credentials: { kind: 'none' } }, served);
  }, 60_000);
  afterAll(async () => t?.stop());

  type Call = { token?: string; basic?: TestClient; json?: Record<string, unknown>; form?: Record<string, string>; raw?: { type: string; text: string } };

  /** One request, checked against the document; the answer for the test's own expectations. */
  async function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: Call = {}): Promise<Response> {
    let req = t.http[method.toLowerCase() as 'get'](path);
    let credentials: Credentials = { kind: 'none' };
    if (options.token !== undefined) {
      req = req.set('Authorization', `Bearer ${options.token}`);
      credentials = { kind: 'http', scheme: 'bearer' };
    }
    if (options.basic) {
      req = req.set('Authorization', basic(options.basic));
      credentials = { kind: 'http', scheme: 'basic' };
    }
    let body: Sent['body'];
    if (options.json) {
      req = req.send(options.json);
      body = { mediaType: 'application/json', value: options.json };
    } else if (options.form) {
      req = req.set('Content-Type', 'application/x-www-form-urlencoded').send(form(options.form));
      body = { mediaType: 'application/x-www-form-urlencoded', value: options.form };
    } else if (options.raw) {
      req = req.set('Content-Type', options.raw.type).send(options.raw.text);
    }
    const res = await req;
    conformance.check({ method, path, credentials, ...(body ? { body } : {}) }, res);
    return res;
  }

  it('a run through the API: every answer as documented', async () => {
    // Probes and standards-shaped documents.
    expect((await call('GET', '/health/live')).status).toBe(200);
    expect((await call('GET', '/health/ready')).status).toBe(200);
    const jwks = await call('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect((await t.http.get('/.well-known/jwks.json').set('If-None-Match', jwks.headers['etag'] as string)).status).toBe(304);
    expect((await call('GET', '/.well-known/oauth-authorization-server')).status).toBe(200);
    expect((await call('GET', '/docs')).status).toBe(200);
    for (const file of ['swagger-ui.css', 'docs-init.js', 'favicon-32x32.png']) expect([file, (await call('GET', `/docs/assets/${file}`)).status]).toEqual([file, 200]);
    expect((await call('GET', '/docs/assets/nope.js')).status).toBe(404);

    // Sign-up with an internationalised address (stored with its domain in Unicode form), verification, sign-in.
    expect((await call('POST', '/api/v1/auth/register', { json: { email: ADA, password: PASSWORD } })).status).toBe(202);
    await t.waitForMail(ADA);
    const verified = await call('POST', '/api/v1/auth/verify', { json: { token: t.lastMailedToken(ADA) } });
    expect([verified.status, verified.body.data?.user?.email]).toEqual([200, ADA]);
    const login = await call('POST', '/api/v1/auth/login', { json: { email: 'ADA@xn--bcher-kva.example', password: PASSWORD } });
    expect(login.status).toBe(200);
    const ada = login.body.data as { user: { id: string }; tokens: { access_token: string; refresh_token: string } };
    expect((await call('POST', '/api/v1/auth/login', { json: { email: ADA, password: 'not the password' } })).status).toBe(401);
    expect((await call('POST', '/api/v1/auth/register', { json: { email: 'eve@example.com', password: PASSWORD, role: 'admin' } })).status).toBe(400);
    expect((await call('POST', '/api/v1/auth/login', { raw: { type: 'text/plain', text: 'email=ada' } })).status).toBe(415);

    // The signed-in user.
    expect((await call('GET', '/api/v1/users/me', { token: ada.tokens.access_token })).status).toBe(200);
    expect((await call('GET', '/api/v1/users/me')).status).toBe(401);
    expect((await call('GET', '/api/v1/users/me', { token: 'not.a.token' })).status).toBe(401);
    expect((await call('GET', '/api/v1/auth/validate', { token: ada.tokens.access_token })).status).toBe(200);
    const refreshed = await call('POST', '/api/v1/auth/refresh', { json: { refresh_token: ada.tokens.refresh_token } });
    expect(refreshed.status).toBe(200);
    const access = refreshed.body.data.tokens.access_token as string;
    expect((await call('GET', '/api/v1/users/me/sessions', { token: access })).status).toBe(200);
    expect((await call('DELETE', '/api/v1/users/me/sessions/00000000-0000-4000-8000-000000000000', { token: access })).status).toBe(404);
    expect((await call('DELETE', '/api/v1/users/me/sessions/not-a-uuid', { token: access })).status).toBe(404);
    expect((await call('PATCH', '/api/v1/users/me', { token: access, json: { username: '  Ada.B ', first_name: 'Ada' } })).status).toBe(200);
    expect((await call('GET', '/api/v1/users/me/activity?limit=5', { token: access })).status).toBe(200);
    expect((await call('PUT', '/api/v1/users/me/credentials', { token: access, json: { current_password: PASSWORD, username: 'ada.l' } })).status).toBe(200);

    // A second user: the taken username (409), the admin API refused (403).
    const bob = await signUp(t, 'bob@example.com');
    expect((await call('PATCH', '/api/v1/users/me', { token: bob.tokens.access_token, json: { username: 'ADA.L' } })).status).toBe(409);
    expect((await call('GET', '/api/v1/admin/stats', { token: bob.tokens.access_token })).status).toBe(403);

    // Rate limits: the per-IP quota of password resets (2 an hour here), then 429.
    for (const status of [202, 202, 429]) expect((await call('POST', '/api/v1/auth/password/reset', { json: { email: 'bob@example.com' } })).status).toBe(status);

    // The second factor: set-up, enabling, the two-step sign-in with a backup code.
    const carol = await signUp(t, 'carol@example.com');
    const setup = await call('POST', '/api/v1/auth/mfa/totp/setup', { token: carol.tokens.access_token });
    expect(setup.status).toBe(200);
    const enabled = await call('POST', '/api/v1/auth/mfa/totp/enable', { token: carol.tokens.access_token, json: { code: oathtool(setup.body.data.secret, t.clock.now()) } });
    expect(enabled.status).toBe(200);
    const challenge = await call('POST', '/api/v1/auth/login', { json: { email: 'carol@example.com', password: PASSWORD } });
    expect(challenge.body.data?.mfa_required).toBe(true);
    const second = await call('POST', '/api/v1/auth/mfa/verify', { json: { mfa_token: challenge.body.data.mfa_token, backup_code: enabled.body.data.backup_codes[0], code: null } });
    expect(second.status).toBe(200);

    // The admin API.
    const admin = await signUp(t, 'root@example.com');
    await t.app.container.get(CreateAdmin).execute({ email: 'root@example.com', password: PASSWORD });
    const root = admin.tokens.access_token;
    expect((await call('GET', '/api/v1/admin/users?limit=10&sort=email&order=asc', { token: root })).status).toBe(200);
    expect((await call('GET', '/api/v1/admin/users?limit=0', { token: root })).status).toBe(400);
    expect((await call('GET', `/api/v1/admin/users/${ada.user.id.toUpperCase()}`, { token: root })).status).toBe(200);
    expect((await call('GET', '/api/v1/admin/users/00000000-0000-4000-8000-000000000000', { token: root })).status).toBe(404);
    expect((await call('GET', '/api/v1/admin/users/not-a-uuid', { token: root })).status).toBe(404);
    expect((await call('PATCH', `/api/v1/admin/users/${bob.user.id}`, { token: root, json: { email_verified: true } })).status).toBe(200);
    expect((await call('PATCH', `/api/v1/admin/users/${bob.user.id}`, { token: root, json: {} })).status).toBe(400);
    expect((await call('POST', '/api/v1/admin/users', { token: root, json: { email: 'dan@example.com', first_name: 'Dan' } })).status).toBe(201);
    expect((await call('POST', '/api/v1/admin/users', { token: root, json: { email: 'dan@example.com' } })).status).toBe(409);
    // A month, and a time without an offset (UTC): forms the route reads.
    expect((await call('GET', '/api/v1/admin/audit-events?since=2000-01&until=2999-12-31T23:59:59&limit=20', { token: root })).status).toBe(200);
    expect((await call('GET', '/api/v1/admin/stats', { token: root })).status).toBe(200);

    // OAuth: both ways of client authentication, introspection, revocation, and its refusals.
    const client = await createClient(t, 'orders:read');
    const token = await call('POST', '/oauth/token', { basic: client, form: { grant_type: 'client_credentials', scope: 'orders:read' } });
    expect(token.status).toBe(200);
    const posted = await call('POST', '/oauth/token', { json: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret } });
    expect(posted.status).toBe(200);
    expect((await call('POST', '/oauth/token', { form: { grant_type: 'client_credentials' } })).status).toBe(401);
    expect((await call('POST', '/oauth/token', { basic: client, form: { grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret } })).status).toBe(400);
    const active = await call('POST', '/oauth/introspect', { basic: client, form: { token: token.body.access_token } });
    expect(active.body.active).toBe(true);
    expect((await call('POST', '/oauth/introspect', { form: { token: ada.tokens.access_token, client_id: client.id, client_secret: client.secret } })).body.active).toBe(true);
    expect((await call('POST', '/oauth/introspect', { basic: client, json: { token: 'garbage' } })).body).toEqual({ active: false });
    for (const status of [200, 200, 429]) expect((await call('POST', '/oauth/revoke', { basic: client, form: { token: 'garbage' } })).status).toBe(status);

    // Sign-out; the token stops working. A service token on a user's route is FORBIDDEN.
    expect((await call('POST', '/api/v1/auth/logout', { token: access, json: { scope: 'local' } })).status).toBe(200);
    expect((await call('GET', '/api/v1/auth/validate', { token: access })).status).toBe(401);
    expect((await call('GET', '/api/v1/users/me', { token: token.body.access_token })).status).toBe(403);

    // /metrics behind METRICS_TOKEN.
    expect((await call('GET', '/metrics')).status).toBe(401);
    expect((await call('GET', '/metrics', { token: METRICS_TOKEN })).status).toBe(200);

    expect(conformance.failures).toEqual([]);
  }, 30_000);

  it('checked every kind of answer the run is about', () => {
    const expected = [
      'POST /api/v1/auth/register 202', 'POST /api/v1/auth/register 400', 'POST /api/v1/auth/verify 200', 'POST /api/v1/auth/login 200',
      'POST /api/v1/auth/login 401', 'POST /api/v1/auth/login 415', 'GET /api/v1/users/me 200', 'GET /api/v1/users/me 401', 'GET /api/v1/users/me 403',
      'POST /api/v1/auth/refresh 200', 'GET /api/v1/users/me/sessions 200', 'DELETE /api/v1/users/me/sessions/{id} 404', 'PATCH /api/v1/users/me 409',
      'POST /api/v1/auth/password/reset 429', 'POST /api/v1/auth/logout 200', 'GET /api/v1/admin/users 200', 'GET /api/v1/admin/users/{id} 200',
      'GET /api/v1/admin/users/{id} 404', 'PATCH /api/v1/admin/users/{id} 200', 'PATCH /api/v1/admin/users/{id} 400', 'GET /api/v1/admin/audit-events 200',
      'GET /api/v1/admin/stats 200', 'GET /api/v1/admin/stats 403', 'POST /api/v1/admin/users 409', 'POST /oauth/token 200', 'POST /oauth/token 400',
      'POST /oauth/token 401', 'POST /oauth/introspect 200', 'POST /oauth/revoke 200', 'POST /oauth/revoke 429', 'GET /health/ready 200',
      'GET /.well-known/jwks.json 200', 'GET /.well-known/oauth-authorization-server 200', 'GET /metrics 200', 'GET /metrics 401',
      'POST /api/v1/auth/mfa/verify 200', 'GET /docs/assets/{file} 200',
    ];
    expect(expected.filter((answer) => !conformance.seen.has(answer))).toEqual([]);
  });
});
