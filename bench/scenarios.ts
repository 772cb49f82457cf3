import type autocannon from 'autocannon';

type RequestSpec = autocannon.Request;

/**
 * What bounds a scenario, and so what its share is taken of: `read` the bare-Koa ceiling (BENCH_CONNECTIONS_READ
 * connections, default 50), `hash` the raw argon2id hash rate and `verify` the raw verify rate
 * (BENCH_CONNECTIONS_HASH, default 8), `write` none (database round trips; read connections).
 */
export type ScenarioKind = 'read' | 'write' | 'hash' | 'verify';

export interface Scenario {
  name: string;
  kind: ScenarioKind;
  duration?: number;
  /** The status every answer should have (default: any 2xx). */
  expectStatus?: number;
  /** Creates what the scenario needs (users, sessions) and returns the request autocannon repeats. */
  prepare(base: string, connections: number): Promise<{ request: RequestSpec }>;
}

export const PASSWORD = 'bench password that is long enough';
export const json = { 'content-type': 'application/json' };
let userCounter = 0;

async function call(base: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body ? 'POST' : 'GET'),
    headers: { ...json, ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const body = (await response.json()) as { data?: { tokens?: { access_token: string; refresh_token: string } } };
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

export async function newSession(base: string) {
  const email = `bench-${process.pid}-${Date.now()}-${++userCounter}@example.com`;
  const body = await call(base, '/api/v1/auth/register', { body: { email, password: PASSWORD } });
  const tokens = body.data?.tokens;
  if (!tokens) throw new Error('register returned no tokens: is REQUIRE_EMAIL_VERIFICATION=false?');
  return { email, tokens };
}

/** One signed-up user per connection: each connection takes the next one on its first request. */
async function sessionPerConnection(base: string, connections: number) {
  const pool = await Promise.all(Array.from({ length: connections }, () => newSession(base)));
  let next = 0;
  return () => pool[next++ % pool.length]!;
}

interface ChainContext {
  refreshToken?: string;
}

export const scenarios: Scenario[] = [
  {
    name: 'register',
    kind: 'hash',
    async prepare() {
      let n = 0;
      const run = `${process.pid}-${Date.now()}`;
      return {
        request: {
          method: 'POST',
          path: '/api/v1/auth/register',
          headers: json,
          setupRequest: (req: RequestSpec) => ({
            ...req,
            body: JSON.stringify({ email: `load-${run}-${++n}@example.com`, password: PASSWORD }),
          }),
        },
      };
    },
  },
  {
    name: 'login',
    kind: 'verify',
    async prepare(base, connections) {
      // One user per connection: the lockout checks at most LOCKOUT_THRESHOLD logins of one identifier at once.
      const take = await sessionPerConnection(base, connections);
      return {
        request: {
          method: 'POST',
          path: '/api/v1/auth/login',
          headers: json,
          setupRequest: (req: RequestSpec, context: object) => {
            const ctx = context as { email?: string };
            ctx.email ??= take().email;
            return { ...req, body: JSON.stringify({ email: ctx.email, password: PASSWORD }) };
          },
        },
      };
    },
  },
  {
    name: 'refresh',
    kind: 'write',
    async prepare(base, connections) {
      // Every refresh rotates the token, so each connection follows its own chain of tokens.
      const take = await sessionPerConnection(base, connections);
      return {
        request: {
          method: 'POST',
          path: '/api/v1/auth/refresh',
          headers: json,
          setupRequest: (req: RequestSpec, context: object) => {
            const ctx = context as ChainContext;
            ctx.refreshToken ??= take().tokens.refresh_token;
            return { ...req, body: JSON.stringify({ refresh_token: ctx.refreshToken }) };
          },
          onResponse: (status: number, body: string, context: object) => {
            if (status === 200) {
              (context as ChainContext).refreshToken = (JSON.parse(body) as { data: { tokens: { refresh_token: string } } }).data.tokens.refresh_token;
            }
          },
        },
      };
    },
  },
  {
    name: 'validate',
    kind: 'read',
    async prepare(base) {
      const { tokens } = await newSession(base);
      return { request: { method: 'GET', path: '/api/v1/auth/validate', headers: { authorization: `Bearer ${tokens.access_token}` } } };
    },
  },
  {
    name: 'me',
    kind: 'read',
    async prepare(base) {
      const { tokens } = await newSession(base);
      return { request: { method: 'GET', path: '/api/v1/users/me', headers: { authorization: `Bearer ${tokens.access_token}` } } };
    },
  },
  {
    name: 'sessions',
    kind: 'read',
    async prepare(base) {
      const { tokens } = await newSession(base);
      return { request: { method: 'GET', path: '/api/v1/users/me/sessions', headers: { authorization: `Bearer ${tokens.access_token}` } } };
    },
  },
  {
    name: 'jwks',
    kind: 'read',
    async prepare() {
      return { request: { method: 'GET', path: '/.well-known/jwks.json' } };
    },
  },
  {
    // A verifier that already holds the key set revalidates it: 304 without a body.
    name: 'jwks 304',
    kind: 'read',
    expectStatus: 304,
    async prepare(base) {
      return { request: { method: 'GET', path: '/.well-known/jwks.json', headers: { 'if-none-match': await etagOf(base, '/.well-known/jwks.json') } } };
    },
  },
  {
    name: 'metadata',
    kind: 'read',
    async prepare() {
      return { request: { method: 'GET', path: '/.well-known/oauth-authorization-server' } };
    },
  },
  {
    name: 'health/live',
    kind: 'read',
    async prepare() {
      return { request: { method: 'GET', path: '/health/live' } };
    },
  },
];

async function etagOf(base: string, path: string): Promise<string> {
  const response = await fetch(`${base}${path}`);
  await response.arrayBuffer();
  const etag = response.headers.get('etag');
  if (!response.ok || !etag) throw new Error(`${path}: ${response.status}, ETag ${etag ?? 'missing'}`);
  return etag;
}
