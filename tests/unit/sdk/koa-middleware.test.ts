import Koa from 'koa';
import request from 'supertest';
import { createTokenVerifier, type AuthState, type MiddlewareOptions } from '../../../src/sdk';
import { OAuthPeer, PEER_AUDIENCE, PEER_ISSUER } from '../../support/oauth-peer';
import { FakeClock } from './support';

/** The middleware in a real Koa app: what a protected service answers for each kind of caller. */
describe('createTokenVerifier().middleware', () => {
  let peer: OAuthPeer;
  let serviceToken: string;
  beforeAll(async () => {
    peer = await new OAuthPeer().start();
    const response = await fetch(peer.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', client_id: 'orders', client_secret: peer.clients[0]!.secret }),
    });
    serviceToken = ((await response.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => peer.stop());

  const app = (options: MiddlewareOptions = {}, clock = new FakeClock()) => {
    const verifier = createTokenVerifier({
      issuer: PEER_ISSUER,
      audience: PEER_AUDIENCE,
      jwksUrl: peer.jwksUrl,
      introspection: { url: peer.introspectUrl, clientId: 'orders', clientSecret: peer.clients[0]!.secret },
      breaker: { failureThreshold: 1 },
      now: clock.now,
    });
    const koa = new Koa<AuthState>();
    koa.use(verifier.middleware(options));
    koa.use((ctx) => {
      ctx.body = { subject: ctx.state.auth.subject, type: ctx.state.auth.tokenType };
    });
    return request(koa.callback());
  };

  const expectEnvelope = (body: Record<string, unknown>, code: string) =>
    expect(body).toEqual({
      success: false,
      error: { code, message: expect.any(String) },
      meta: { request_id: expect.any(String), timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), version: 'v1' },
    });

  it('passes a valid token through and sets ctx.state.auth', async () => {
    const token = await peer.userToken({ sub: 'u-7' });
    const response = await app().get('/').set('Authorization', `Bearer ${token}`).expect(200);
    expect(response.body).toEqual({ subject: 'u-7', type: 'user' });
  });

  it('no token: 401 UNAUTHENTICATED with WWW-Authenticate: Bearer, the caller request id kept', async () => {
    const response = await app().get('/').set('X-Request-ID', 'abc-123').expect(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(response.headers['x-request-id']).toBe('abc-123');
    expectEnvelope(response.body, 'UNAUTHENTICATED');
    expect(response.body.meta.request_id).toBe('abc-123');
    await app().get('/').set('Authorization', 'Basic abc').expect(401);
  });

  it('more than one Authorization header: 400 BAD_REQUEST with error="invalid_request", whatever the order', async () => {
    const token = await peer.userToken({ sub: 'u-7' });
    for (const pair of [[token, 'garbage'], ['garbage', token], [token, token]]) {
      // An array value sends one header line per element (superagent's types only allow it for Cookie).
      const response = await app().get('/').set('Authorization', pair.map((t) => `Bearer ${t}`) as unknown as string).expect(400);
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_request"');
      expectEnvelope(response.body, 'BAD_REQUEST');
    }
  });

  it('a bad token: 401 INVALID_TOKEN with error="invalid_token"', async () => {
    const response = await app().get('/').set('Authorization', 'Bearer not.a.token').expect(401);
    expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expectEnvelope(response.body, 'INVALID_TOKEN');
  });

  it('roles: any one of them; a user without it is 403 FORBIDDEN', async () => {
    const admin = await peer.userToken({ roles: ['user', 'admin'] });
    const user = await peer.userToken({ roles: ['user'] });
    await app({ roles: ['admin', 'support'] }).get('/').set('Authorization', `Bearer ${admin}`).expect(200);
    const refused = await app({ roles: ['admin', 'support'] }).get('/').set('Authorization', `Bearer ${user}`).expect(403);
    expectEnvelope(refused.body, 'FORBIDDEN');
    // A service token has no roles.
    await app({ roles: ['admin'] }).get('/').set('Authorization', `Bearer ${serviceToken}`).expect(403);
  });

  it('scopes: every one of them; a user token has none', async () => {
    await app({ scopes: ['orders:read'] }).get('/').set('Authorization', `Bearer ${serviceToken}`).expect(200);
    const refused = await app({ scopes: ['orders:read', 'orders:write'] }).get('/').set('Authorization', `Bearer ${serviceToken}`).expect(403);
    expectEnvelope(refused.body, 'FORBIDDEN');
    await app({ scopes: ['orders:read'] }).get('/').set('Authorization', `Bearer ${await peer.userToken()}`).expect(403);
  });

  it("tokenTypes: a route for users refuses a service token (403), one for services a user's; both pass by default", async () => {
    const userToken = await peer.userToken({ sub: 'u-8' });
    const refused = await app({ tokenTypes: ['user'] }).get('/').set('Authorization', `Bearer ${serviceToken}`).expect(403);
    expectEnvelope(refused.body, 'FORBIDDEN');
    await app({ tokenTypes: ['user'] }).get('/').set('Authorization', `Bearer ${userToken}`).expect(200, { subject: 'u-8', type: 'user' });
    await app({ tokenTypes: ['service'] }).get('/').set('Authorization', `Bearer ${userToken}`).expect(403);
    await app({ tokenTypes: ['service'] }).get('/').set('Authorization', `Bearer ${serviceToken}`).expect(200, { subject: 'orders', type: 'service' });
    await app().get('/').set('Authorization', `Bearer ${serviceToken}`).expect(200, { subject: 'orders', type: 'service' });
  });

  it('online: a revoked session is 401 at once; auth-service down is 503 AUTH_UNAVAILABLE', async () => {
    const sid = 'session-to-end';
    const token = await peer.userToken({ sid });
    const online = app({ online: true });
    await online.get('/').set('Authorization', `Bearer ${token}`).expect(200);
    peer.revokeSession(sid);
    await app({ online: true }).get('/').set('Authorization', `Bearer ${token}`).expect(401);
    peer.failNext('/oauth/introspect', 503);
    const down = await app({ online: true }).get('/').set('Authorization', `Bearer ${await peer.userToken()}`).expect(503);
    expectEnvelope(down.body, 'AUTH_UNAVAILABLE');
    // The upstream failure ("introspection answered 503") is for the operator's log, not the caller.
    expect(down.body.error.message).toBe('auth-service is unavailable.');
  });

  it('errors thrown further down the chain are not turned into auth answers', async () => {
    const verifier = createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl });
    const koa = new Koa();
    koa.silent = true;
    koa.use(verifier.middleware());
    koa.use(() => {
      throw new Error('boom');
    });
    await request(koa.callback()).get('/').set('Authorization', `Bearer ${await peer.userToken()}`).expect(500);
  });
});
