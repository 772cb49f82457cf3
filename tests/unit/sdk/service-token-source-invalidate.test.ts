import { createServer, type Server } from 'node:http';
import { ServiceTokenSource } from '../../../src/sdk';
import { OAuthPeer } from '../../support/oauth-peer';
import { closeServer, listenOnLoopback } from '../../support/local-server';
import { FakeClock } from './support';

/**
 * An outside review (2026-12-07): invalidate() dropped whatever token was cached. After a burst of 401s to a token
 * T1, each 401 arriving after the renewal had fetched T2 evicted T2 and made another token request; a callee that
 * answers 401 to every token made each call a token request, into the token endpoint's 429 quota, after which
 * getToken() rejected SLOW_DOWN for every callee. Now invalidate(token) drops only the token it is given while it is
 * still the cached one, and a token that an invalidation's renewal fetched, refused again within 10 s, is kept until
 * its renewal point.
 */

/** A callee (node:http): 401 with WWW-Authenticate to the bearer tokens in `refused` (or to all), else 200. */
class Callee {
  refused = new Set<string>();
  refuseAll = false;
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      req.resume();
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (this.refuseAll || this.refused.has(token)) return void res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      res.writeHead(200).end();
    });
    this.url = `${await listenOnLoopback(server)}/reservations`;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.server = null;
  }
}

describe('ServiceTokenSource.invalidate(token)', () => {
  let peer: OAuthPeer;
  let callee: Callee;
  beforeAll(async () => {
    peer = await new OAuthPeer().start();
    callee = await new Callee().start();
  });
  afterAll(async () => {
    await peer.stop();
    await callee.stop();
  });
  beforeEach(() => {
    callee.refused.clear();
    callee.refuseAll = false;
  });

  const setup = () => {
    const clock = new FakeClock();
    const start = clock.ms;
    const tokens = new ServiceTokenSource({ tokenUrl: peer.tokenUrl, clientId: 'orders', clientSecret: peer.clients[0]!.secret, now: clock.now });
    const before = peer.requests('/oauth/token');
    return { tokens, clock, at: (seconds: number) => (clock.ms = start + seconds * 1000), tokenRequests: () => peer.requests('/oauth/token') - before };
  };

  /** One call to the callee as examples/sdk-service/orders.ts makes it: a 401 drops the token, and it is tried once more. */
  const call = async (tokens: ServiceTokenSource): Promise<number> => {
    for (let attempt = 0; ; attempt += 1) {
      const token = await tokens.getToken();
      const response = await fetch(callee.url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      if (response.status === 401 && attempt === 0) {
        tokens.invalidate(token);
        continue;
      }
      return response.status;
    }
  };

  it('a burst of 401s to the old token, handled after the renewal, does not evict the new one', async () => {
    const { tokens, tokenRequests } = setup();
    const t1 = await tokens.getToken();
    callee.refused.add(t1); // e.g. revoked
    const refused = await Promise.all(
      Array.from({ length: 20 }, () => fetch(callee.url, { method: 'POST', headers: { authorization: `Bearer ${t1}` } }).then(async (r) => (await r.arrayBuffer(), r.status))),
    );
    expect(refused).toEqual(Array(20).fill(401));
    const after: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      tokens.invalidate(t1); // the first drops t1; the others arrive once t2 is cached
      after.push(await tokens.getToken());
    }
    expect(new Set(after).size).toBe(1);
    expect(after[0]).not.toBe(t1);
    expect(tokenRequests()).toBe(2);
    expect(await call(tokens)).toBe(200);
  });

  it('a callee refusing every token costs two token requests per token lifetime, not one per call', async () => {
    const { tokens, at, tokenRequests } = setup();
    callee.refuseAll = true;
    for (let second = 0; second < 50; second += 1) {
      at(second);
      expect(await call(tokens)).toBe(401);
    }
    // t1 refused and dropped, t2 (fetched because of it) refused within 10 s: kept.
    expect(tokenRequests()).toBe(2);
    at(840); // t2's renewal point (900 s tokens): renewed as usual, then once more because of the refusal
    for (let i = 0; i < 20; i += 1) expect(await call(tokens)).toBe(401);
    expect(tokenRequests()).toBe(4);
    callee.refuseAll = false; // the callee fixed: the kept token is accepted
    expect(await call(tokens)).toBe(200);
  });

  it('a token fetched because of a refusal, used for a while and then refused, is dropped (a revocation)', async () => {
    const { tokens, at, tokenRequests } = setup();
    const t1 = await tokens.getToken();
    callee.refused.add(t1);
    expect(await call(tokens)).toBe(200);
    const t2 = await tokens.getToken();
    expect(t2).not.toBe(t1);
    at(60);
    expect(await call(tokens)).toBe(200);
    callee.refused.add(t2);
    expect(await call(tokens)).toBe(200);
    expect(await tokens.getToken()).not.toBe(t2);
    expect(tokenRequests()).toBe(3);
  });

  it('without a token (the form before 2026-12-07) the cached token is dropped', async () => {
    const { tokens, tokenRequests } = setup();
    const t1 = await tokens.getToken();
    tokens.invalidate();
    expect(await tokens.getToken()).not.toBe(t1);
    expect(tokenRequests()).toBe(2);
  });
});
