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
/** Spread it (`{ ...json }`), never pass it: autocannon writes Content-Length into the headers object it gets. */
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

/**
 * Sessions whose refresh token rotates on every use, lent to one request (or one cycle of requests) at a time.
 * autocannon clears a connection's context each time it wraps around its request list (after every request
 * when there is one), so a chain of tokens cannot live in the context: a request takes a session here and
 * gives it back, with the new tokens, when its answer arrives.
 */
export class SessionQueue {
  private readonly idle: Session[];

  constructor(sessions: Session[]) {
    this.idle = [...sessions];
  }

  /** An idle session; a placeholder (answered 401) if none is left, which only a bug here would cause. */
  take(): Session {
    return this.idle.shift() ?? { email: 'none@example.com', access: 'none', refresh: 'none' };
  }

  give(session: Session): void {
    if (session.refresh !== 'none') this.idle.push(session);
  }

  static async create(base: string, size: number): Promise<SessionQueue> {
    const sessions = await Promise.all(
      Array.from({ length: size }, async () => {
        const { email, tokens } = await newSession(base);
        return { email, access: tokens.access_token, refresh: tokens.refresh_token };
      }),
    );
    return new SessionQueue(sessions);
  }
}

export interface Session {
  email: string;
  access: string;
  refresh: string;
}

/** A refresh with a session from `queue` (kept in the context until the answer), given back with the new tokens. */
export function refreshRequest(queue: SessionQueue): RequestSpec {
  return {
    method: 'POST',
    path: '/api/v1/auth/refresh',
    setupRequest: (req: RequestSpec, context: object) => {
      const ctx = context as { session?: Session };
      ctx.session ??= queue.take();
      return { ...req, headers: { ...json }, body: JSON.stringify({ refresh_token: ctx.session.refresh }) };
    },
    onResponse: (status: number, body: string, context: object) => {
      const ctx = context as { session?: Session };
      if (!ctx.session) return;
      const tokens = status === 200 ? (JSON.parse(body) as { data?: { tokens?: { access_token: string; refresh_token: string } } }).data?.tokens : undefined;
      if (tokens) {
        ctx.session.access = tokens.access_token;
        ctx.session.refresh = tokens.refresh_token;
      }
      queue.give(ctx.session);
    },
  };
}

/** A login (POST {email, password}) to `path`, each connection with its own user, taken on its first request. */
export function loginPerConnection(path: string, headers: Record<string, string>, take: () => { email: string }): RequestSpec {
  return {
    method: 'POST',
    path,
    headers,
    setupRequest: (req: RequestSpec, context: object) => {
      const ctx = context as { email?: string };
      ctx.email ??= take().email;
      return { ...req, body: JSON.stringify({ email: ctx.email, password: PASSWORD }) };
    },
  };
}

export const scenarios: Scenario[] = [
  {
    name: 'register',
    kind: 'hash',
    async prepare(base) {
      // The first registration loads the strength estimator's dictionaries (~200 ms): not part of the rate.
      await newSession(base);
      let n = 0;
      const run = `${process.pid}-${Date.now()}`;
      return {
        request: {
          method: 'POST',
          path: '/api/v1/auth/register',
          headers: { ...json },
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
      return { request: loginPerConnection('/api/v1/auth/login', { ...json }, await sessionPerConnection(base, connections)) };
    },
  },
  {
    name: 'refresh',
    kind: 'write',
    async prepare(base, connections) {
      // Every refresh rotates the token: one session per connection, each following its own chain of tokens.
      return { request: refreshRequest(await SessionQueue.create(base, connections)) };
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
