import { createServer, type Server } from 'node:http';
import { AuthClient, AuthError } from '../../../src/sdk';
import { FakeClock, recordingSleep } from './support';

/**
 * The AuthClient's transport rules against a scripted peer (the real service answers are in
 * tests/e2e/sdk-auth-client.test.ts): each request takes the next scripted answer.
 */
type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'reset';

class ScriptedPeer {
  answers: Answer[] = [];
  seen: Array<{ method: string; url: string; authorization?: string; body: string }> = [];
  private server: Server | null = null;
  base = '';
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body });
        const answer = this.answers.shift() ?? { status: 200, body: { success: true, data: { ok: true }, meta: {} } };
        if (answer === 'reset') return void req.socket.destroy();
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {}));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    return this;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const envelopeError = (code: string, status: number) => ({
  status,
  body: { success: false, error: { code, message: 'no', details: { field: ['x'] } }, meta: { request_id: 'rid-1' } },
});
const user = { id: 'u1', email: 'a@example.com' };

describe('AuthClient transport', () => {
  let peer: ScriptedPeer;
  beforeEach(async () => (peer = await new ScriptedPeer().start()));
  afterEach(async () => peer.stop());

  const client = (clock = new FakeClock()) => {
    const { sleep, waits } = recordingSleep();
    return { client: new AuthClient({ baseUrl: `${peer.base}/`, sleep, retries: 2, breaker: { now: clock.now } }), waits, clock };
  };

  it("a refusal's Retry-After reaches the AuthError (the lock's length, a 503's pause); none, or one not ahead, leaves it unset", async () => {
    peer.answers.push({ ...envelopeError('ACCOUNT_LOCKED', 429), headers: { 'retry-after': '900' } });
    await expect(client().client.login({ email: 'a@example.com', password: 'pw' })).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED', status: 429, retryAfterSeconds: 900 });
    peer.answers.push({ ...envelopeError('SERVICE_UNAVAILABLE', 503), headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } });
    const dated = await client().client.register({ email: 'a@example.com', password: 'pw' }).catch((e: unknown) => e);
    expect(dated).toBeInstanceOf(AuthError);
    expect((dated as AuthError).retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect((dated as AuthError).retryAfterSeconds).toBeLessThanOrEqual(31);
    // A 503 that is not the envelope (a proxy in front): AUTH_UNAVAILABLE, with the wait it asked for.
    peer.answers.push({ status: 503, body: '<html>maintenance</html>', headers: { 'content-type': 'text/html', 'retry-after': '120' } });
    await expect(client().client.login({ email: 'a@example.com', password: 'pw' })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503, retryAfterSeconds: 120 });
    peer.answers.push(envelopeError('INVALID_CREDENTIALS', 401), { ...envelopeError('RATE_LIMITED', 429), headers: { 'retry-after': '0' } });
    for (let i = 0; i < 2; i += 1) {
      const error = await client().client.login({ email: 'a@example.com', password: 'pw' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).retryAfterSeconds).toBeUndefined();
    }
  });

  it('sends JSON to /api/v1 and resolves to the envelope data', async () => {
    peer.answers.push({ status: 200, body: { success: true, data: { user }, meta: {} } });
    await expect(client().client.me('tok')).resolves.toEqual({ user });
    expect(peer.seen[0]).toMatchObject({ method: 'GET', url: '/api/v1/users/me', authorization: 'Bearer tok' });
    peer.answers.push({ status: 202, body: { success: true, data: { message: 'check your email' }, meta: {} } });
    await client().client.register({ email: 'a@example.com', password: 'pw' });
    expect(peer.seen[1]).toMatchObject({ method: 'POST', url: '/api/v1/auth/register', body: '{"email":"a@example.com","password":"pw"}' });
  });

  it('rejects with AuthError carrying the answer code, status, details and request id', async () => {
    peer.answers.push(envelopeError('INVALID_CREDENTIALS', 401));
    const error = (await client().client.login({ email: 'a@example.com', password: 'x' }).catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401, details: { field: ['x'] }, requestId: 'rid-1' });
  });

  it('retries safe calls (GET) on 5xx and reset connections, with backoff', async () => {
    peer.answers.push(envelopeError('INTERNAL_ERROR', 500), 'reset', { status: 200, body: { success: true, data: { user }, meta: {} } });
    const { client: c, waits } = client();
    await expect(c.me('tok')).resolves.toEqual({ user });
    expect(peer.seen).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });

  it('gives up after the retries: the last error', async () => {
    peer.answers.push({ status: 502, body: '<html>bad gateway</html>' }, { status: 503, body: 'x' }, { status: 504, body: '' });
    await expect(client().client.validate('tok')).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    expect(peer.seen).toHaveLength(3);
  });

  it('never retries unsafe calls (POST) nor 4xx', async () => {
    peer.answers.push({ status: 503, body: 'x' });
    await expect(client().client.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    peer.answers.push('reset');
    await expect(client().client.refresh({ refresh_token: 'r' })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    peer.answers.push(envelopeError('INVALID_TOKEN', 401));
    await expect(client().client.me('tok')).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    expect(peer.seen).toHaveLength(3);
  });

  it('a body that is not the envelope is UNEXPECTED_RESPONSE', async () => {
    peer.answers.push({ status: 404, body: '<html>not here</html>' });
    await expect(client().client.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 404 });
  });

  it('the circuit opens after 5 consecutive failures to reach the service, and closes when it answers again', async () => {
    const { client: c, clock } = client();
    for (let i = 0; i < 5; i += 1) {
      peer.answers.push({ status: 503, body: 'x' });
      await expect(c.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
    }
    expect(peer.seen).toHaveLength(5);
    const open = await c.me('tok').catch((e: unknown) => e);
    expect(open).toMatchObject({ code: 'AUTH_UNAVAILABLE', details: { circuit: 'open' } });
    expect(peer.seen).toHaveLength(5); // nothing sent, and a GET is not retried into an open circuit
    clock.advance(10);
    await expect(c.me('tok')).resolves.toEqual({ ok: true });
    await expect(c.me('tok')).resolves.toEqual({ ok: true });
    expect(peer.seen).toHaveLength(7);
  });

  it("the service's own load refusal (503, details.service busy) does not open the circuit; an outage's 503 still does (a review, stop 65)", async () => {
    const { client: c } = client();
    const busy = { status: 503, headers: { 'retry-after': '2' }, body: { success: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'The service is busy.', details: { service: ['busy'] } }, meta: {} } };
    for (let i = 0; i < 8; i += 1) {
      peer.answers.push(busy);
      await expect(c.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 2 });
    }
    // Another user's validation is still sent, and answered.
    await expect(c.me('tok')).resolves.toEqual({ ok: true });
    for (let i = 0; i < 5; i += 1) {
      peer.answers.push({ ...envelopeError('SERVICE_UNAVAILABLE', 503), headers: { 'retry-after': '5' } });
      await expect(c.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    }
    await expect(c.me('tok')).rejects.toMatchObject({ details: { circuit: 'open' } });
  });

  it('answers (4xx) do not open the circuit', async () => {
    const { client: c } = client();
    for (let i = 0; i < 8; i += 1) {
      peer.answers.push(envelopeError('INVALID_CREDENTIALS', 401));
      await expect(c.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    }
    await expect(c.me('tok')).resolves.toEqual({ ok: true });
  });

  it('a token that cannot be one (or cannot go into a header) is INVALID_TOKEN at once: nothing sent, no retry, the circuit untouched', async () => {
    const { client: c, waits } = client();
    const bad = ['a\nb', 'x\u0000y', 'tok\u0100', 'caf\u00e9', 'a b', 'a\r\nX-Injected: 1'];
    for (let round = 0; round < 5; round += 1) {
      for (const token of bad) {
        await expect(c.validate(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
        await expect(c.me(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
        await expect(c.logout(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
      }
    }
    await expect(c.validate('')).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    expect(peer.seen).toHaveLength(0);
    expect(waits).toEqual([]);
    // 90 such calls later the legitimate ones still go through.
    peer.answers.push({ status: 200, body: { success: true, data: { valid: true }, meta: {} } });
    await expect(c.validate('good.jwt.token')).resolves.toEqual({ valid: true });
    await expect(c.login({ email: 'a@example.com', password: 'x' })).resolves.toEqual({ ok: true });
    expect(peer.seen.map((r) => r.authorization)).toEqual(['Bearer good.jwt.token', undefined]);
  });

  /** Found at stop 30: session() let the TypeError of `Headers` through, and its message quoted the token. */
  it('session(): a token that cannot go into a header rejects with AuthError, never an error quoting it, and nothing is sent', async () => {
    const { client: c } = client();
    const tokens = (access: string) => ({ access_token: access, refresh_token: 'r', token_type: 'Bearer' as const, expires_in: 900, expires_at: '', refresh_expires_at: '' });
    for (const [token, code] of [['secret\nvalue', 'INVALID_TOKEN'], ['secret\u0100value', 'INVALID_TOKEN'], ['secret value', 'INVALID_TOKEN'], ['', 'UNAUTHENTICATED']] as const) {
      const error: unknown = await c.session(tokens(token))(`${peer.base}/anything`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ code, status: 401 });
      expect(String((error as Error).message)).not.toContain('secret');
    }
    expect(peer.seen).toHaveLength(0);
    const ok = await c.session(tokens('good.jwt.token'))(`${peer.base}/anything`);
    expect(ok.status).toBe(200);
    expect(peer.seen.map((r) => r.authorization)).toEqual(['Bearer good.jwt.token']);
  });

  it("an attacker's one bad token per half-open window does not keep the circuit open", async () => {
    const { client: c, clock } = client();
    for (let i = 0; i < 5; i += 1) {
      peer.answers.push({ status: 503, body: 'x' });
      await c.login({ email: 'a@example.com', password: 'x' }).catch(() => undefined);
    }
    clock.advance(10);
    await expect(c.validate('x\u0000y')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(c.me('tok')).resolves.toEqual({ ok: true }); // the trial was the legitimate call
    for (let i = 0; i < 5; i += 1) await expect(c.validate('a\nb')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(c.me('tok')).resolves.toEqual({ ok: true });
  });

  it('a request fetch cannot build (bad base URL, body that is not JSON) is VALIDATION_ERROR at once, never AUTH_UNAVAILABLE', async () => {
    const { sleep, waits } = recordingSleep();
    let fetches = 0;
    const fetch = () => ((fetches += 1), Promise.reject(new TypeError('fetch failed')));
    const broken = new AuthClient({ baseUrl: 'http://exa mple.com', sleep, fetch, breaker: { failureThreshold: 1 } });
    for (let i = 0; i < 3; i += 1) await expect(broken.me('tok')).rejects.toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const fine = new AuthClient({ baseUrl: peer.base, sleep, breaker: { failureThreshold: 1 } });
    await expect(fine.register(cyclic as never)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    expect(fetches).toBe(0);
    expect(waits).toEqual([]);
    await expect(fine.me('tok')).resolves.toEqual({ ok: true }); // a threshold of 1 and still closed
  });

  it('a 4xx answer resets the failure count: alternating [unreachable, 401] never opens the circuit', async () => {
    const { client: c } = client();
    const noRetries = new AuthClient({ baseUrl: peer.base, retries: 0 });
    for (let i = 0; i < 10; i += 1) {
      peer.answers.push('reset', envelopeError('INVALID_CREDENTIALS', 401));
      await expect(c.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
      await expect(c.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      peer.answers.push({ status: 503, body: 'x' }, envelopeError('INVALID_TOKEN', 401));
      await expect(noRetries.validate('tok')).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE' });
      await expect(noRetries.validate('tok')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    }
    await expect(c.me('tok')).resolves.toEqual({ ok: true });
    await expect(noRetries.me('tok')).resolves.toEqual({ ok: true });
    expect(peer.seen).toHaveLength(42);
  });

  it('a request past its deadline is AUTH_UNAVAILABLE', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const address = hanging.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const c = new AuthClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 50 });
      await expect(c.login({ email: 'a@example.com', password: 'x' })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
