import type { Router } from '@koa/router';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { OpenAPIObject, OperationObject, ReferenceObject, ResponseObject, SchemaObject } from 'openapi3-ts/oas31';
import { errorStatus } from '@interface/http/openapi/errors';
import { ROUTES } from '@interface/http/routes';
import type { RouteDef } from '@interface/http/routing/route';
import { startTestApp, type TestApp } from '../support/app';

const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
const documentedPath = (path: string) => path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');

/** The router the app mounts (router.routes() carries it as `.router`), found through the Koa app itself. */
function mountedRouter(t: TestApp): Router {
  const routers = (t.app.http.middleware as unknown as { router?: Router }[]).flatMap((m) => (m.router ? [m.router] : []));
  expect(routers).toHaveLength(1);
  return routers[0]!;
}

/** Method and path of every route layer (middleware layers have no methods; HEAD comes with GET). */
function mountedRoutes(router: Router): string[] {
  return router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD' && m !== 'OPTIONS').map((m) => key(m, String(layer.path))));
}

function codesIn(response: ResponseObject | undefined): string[] {
  const schema = response?.content?.['application/json']?.schema as SchemaObject | undefined;
  const candidates = schema?.oneOf ? (schema.oneOf as SchemaObject[]) : schema ? [schema] : [];
  return candidates.flatMap((s) => {
    const code = ((s.properties?.['error'] as SchemaObject | undefined)?.properties?.['code'] as SchemaObject | undefined)?.enum;
    return (code ?? []) as string[];
  });
}

describe('OpenAPI document served by the service', () => {
  let t: TestApp;
  let doc: OpenAPIObject;
  beforeAll(async () => {
    t = await startTestApp();
    const res = await t.http.get('/openapi.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(res.body.success).toBeUndefined();
    doc = res.body as OpenAPIObject;
  });
  afterAll(async () => {
    await t.stop();
  });

  function operationOf(route: RouteDef): OperationObject {
    const operation = doc.paths?.[documentedPath(route.path)]?.[route.method.toLowerCase() as 'get'];
    if (!operation) throw new Error(`${key(route.method, route.path)} is not in /openapi.json`);
    return operation;
  }

  it('validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await new Validator().validate(doc as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('documents every route of ROUTES, and nothing else', () => {
    expect(ROUTES.length).toBeGreaterThan(0);
    const documented = Object.entries(doc.paths ?? {}).flatMap(([path, item]) => Object.keys(item).map((m) => key(m, path)));
    expect(documented.sort()).toEqual(ROUTES.map((r) => key(r.method, documentedPath(r.path))).sort());
  });

  it.each(ROUTES.map((route) => [key(route.method, route.path), route] as const))('%s: summary, request body and responses', (_name, route) => {
    const operation = operationOf(route);
    expect(operation.summary).toBe(route.summary);
    expect(operation.tags).toEqual(route.tags);
    const responses = operation.responses as Record<string, ResponseObject>;
    if (route.body) {
      const schema = (operation.requestBody as { content: Record<string, { schema: ReferenceObject }> }).content['application/json']!.schema;
      const name = schema.$ref.replace('#/components/schemas/', '');
      expect(doc.components?.schemas?.[name]).toMatchObject({ type: 'object' });
    } else if (['POST', 'PUT', 'PATCH'].includes(route.method)) {
      // No body of its own: nothing or `{}`, anything else refused (routing/request-body.ts).
      const body = operation.requestBody as { required: boolean; content: Record<string, { schema: ReferenceObject }> };
      expect(body.required).toBe(false);
      const name = body.content['application/json']!.schema.$ref.replace('#/components/schemas/', '');
      expect(doc.components?.schemas?.[name]).toEqual({ type: 'object', properties: {}, additionalProperties: false });
      expect(codesIn(responses['400'])).toEqual(expect.arrayContaining(['MALFORMED_JSON', 'VALIDATION_ERROR']));
      expect(codesIn(responses['415'])).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    } else {
      expect(operation.requestBody).toBeUndefined();
    }
    for (const status of Object.keys(route.responses)) expect(responses[status]?.description).toBeTruthy();
    for (const code of route.errors) expect(codesIn(responses[String(errorStatus(code))])).toContain(code);
    expect(codesIn(responses['500'])).toContain('INTERNAL_ERROR');
    // A public route has no requirement, but /metrics, whose METRICS_TOKEN is optional ({} or the token); a client route
    // takes HTTP Basic or its credentials in the body ({}); a bearer route, the bearer alone.
    const expected = route.path === '/metrics' ? 2 : route.auth === 'none' ? undefined : route.auth === 'client' ? 2 : 1;
    expect([key(route.method, route.path), operation.security?.length]).toEqual([key(route.method, route.path), expected]);
    if (expected === 2) expect(operation.security).toContainEqual({});
  });

  it('documents what the bearer check, query validation and the standards-shaped routes really do (an outside review)', () => {
    const schemaOf = (name: string) => doc.components?.schemas?.[name] as SchemaObject;
    // bearer-auth.ts answers a service token on a user's route 403 FORBIDDEN.
    const userRoutes = ROUTES.filter((route) => route.auth === 'user');
    expect(userRoutes.length).toBeGreaterThan(10);
    for (const route of userRoutes) expect([key(route.method, route.path), codesIn(operationOf(route).responses?.['403'])]).toEqual([key(route.method, route.path), ['FORBIDDEN']]);
    // A query string is validated like a body: VALIDATION_ERROR.
    const queryRoutes = ROUTES.filter((route) => route.query);
    expect(queryRoutes.length).toBeGreaterThanOrEqual(3);
    for (const route of queryRoutes) expect(codesIn(operationOf(route).responses?.['400'])).toContain('VALIDATION_ERROR');
    // RFC 6749 §3.1: parameters the OAuth routes do not declare are ignored, so their schemas stay open.
    for (const name of ['TokenRequestDto', 'TokenActionDto']) expect([name, schemaOf(name).additionalProperties]).toEqual([name, undefined]);
    expect(schemaOf('RegisterDto').additionalProperties).toBe(false);
    // `"scope": null` is accepted by logout; role names have the domain's shape.
    expect((schemaOf('LogoutDto').properties?.['scope'] as SchemaObject).enum).toContain(null);
    for (const name of ['InviteUserDto', 'UpdateUserDto']) {
      const roles = schemaOf(name).properties?.['roles'] as SchemaObject;
      const items = roles.items as SchemaObject;
      expect([name, items.pattern, roles.minItems, roles.maxItems]).toEqual([name, '^[a-z][a-z0-9_-]{0,31}$', 1, 20]);
    }
    // The last active admin deleting their own account is 409 CONFLICT (CONTRACT §1; undocumented until 2026-12-02).
    const deleteMe = ROUTES.find((route) => route.method === 'DELETE' && route.path === '/api/v1/users/me');
    expect(codesIn(operationOf(deleteMe!).responses?.['409'])).toEqual(['CONFLICT']);
    // WWW-Authenticate goes with a bearer challenge only: not on login's or refresh's 401 (wrong password or token).
    const challenge = (method: string, path: string) => {
      const route = ROUTES.find((r) => r.method === method && r.path === path);
      return ((operationOf(route!).responses?.['401'] as ResponseObject | undefined)?.headers ?? {})['WWW-Authenticate'] !== undefined;
    };
    expect([challenge('POST', '/api/v1/auth/login'), challenge('POST', '/api/v1/auth/refresh'), challenge('GET', '/api/v1/users/me')]).toEqual([false, false, true]);
  });

  /**
   * The JWKS and the metadata answer If-None-Match with 304 and send ETag and Cache-Control: documented since an
   * outside review (2026-12-03) found them missing. The documented 304 is what the service answers.
   */
  it('documents the conditional GET of the static documents, and the service answers it so', async () => {
    const documents = ROUTES.filter((route) => route.staticDocument);
    expect(documents.map((route) => route.path).sort()).toEqual(['/.well-known/jwks.json', '/.well-known/oauth-authorization-server']);
    for (const route of documents) {
      const operation = operationOf(route);
      expect((operation.parameters ?? []).map((p) => ('name' in p ? [p.name, p.in] : []))).toContainEqual(['If-None-Match', 'header']);
      for (const status of ['200', '304']) {
        expect([route.path, status, Object.keys((operation.responses?.[status] as ResponseObject | undefined)?.headers ?? {})]).toEqual([route.path, status, ['ETag', 'Cache-Control']]);
      }
      const first = await t.http.get(route.path).expect(200);
      const again = await t.http.get(route.path).set('If-None-Match', first.headers['etag'] as string);
      expect([again.status, again.headers['etag'], typeof again.headers['cache-control']]).toEqual([304, first.headers['etag'], 'string']);
    }
    expect(ROUTES.filter((route) => !route.staticDocument).every((route) => operationOf(route).responses?.['304'] === undefined)).toBe(true);
  });

  it('every route mounted on the router is in ROUTES, so no route goes undocumented', () => {
    const mounted = mountedRoutes(mountedRouter(t));
    expect(mounted.length).toBeGreaterThan(0);
    const table = new Set(ROUTES.map((r) => key(r.method, r.path)));
    expect(mounted.filter((route) => !table.has(route))).toEqual([]);
    // And the other way round: the document lists no route that does not answer.
    expect([...table].filter((route) => !mounted.includes(route))).toEqual([]);
  });
});
