import { createServer, type Server } from 'node:http';
import { AuthClient, createTokenVerifier, ServiceTokenSource } from '../../../src/sdk';
import { OAuthPeer, PEER_AUDIENCE, PEER_ISSUER } from '../../support/oauth-peer';
import { closeServer, listenOnLoopback } from '../../support/local-server';

/**
 * An outside review (2026-12-07): Node's AbortSignal.timeout throws a RangeError for a fraction of a millisecond
 * (2009.9999999999998, as `2.01 * 1000` computes) and for a value above 2^32-1, and between 2^31 and 2^32-1 it fires
 * after 1 ms. The SDK reported the RangeError as a network error, so every request of a client or verifier configured
 * so was AUTH_UNAVAILABLE, an outage that was the configuration. The verifier only checked "finite and above 0",
 * ServiceTokenSource and AuthClient nothing. Now each refuses such a `timeoutMs` with a TypeError when it is made.
 */
const BAD: Array<[string, number]> = [
  ['a computed fraction (2.01 * 1000)', 2009.9999999999998],
  ['half a millisecond', 0.5],
  ['2^31 (a timer fires after 1 ms)', 2 ** 31],
  ['2^32 (AbortSignal.timeout throws)', 2 ** 32],
  ['0', 0],
  ['negative', -1],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
];

describe('timeoutMs is checked when a client or verifier is made', () => {
  let peer: OAuthPeer;
  let api: Server;
  let apiBase: string;
  beforeAll(async () => {
    peer = await new OAuthPeer().start();
    api = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: true, data: { user: { id: 'u1' } }, meta: {} }));
    });
    apiBase = await listenOnLoopback(api);
  });
  afterAll(async () => {
    await peer.stop();
    await closeServer(api);
  });

  const makers = () => ({
    ServiceTokenSource: (timeoutMs: number) => new ServiceTokenSource({ tokenUrl: peer.tokenUrl, clientId: 'orders', clientSecret: peer.clients[0]!.secret, timeoutMs, retries: 0 }),
    AuthClient: (timeoutMs: number) => new AuthClient({ baseUrl: apiBase, timeoutMs, retries: 0 }),
    createTokenVerifier: (timeoutMs: number) => createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl, timeoutMs }),
  });

  describe.each(['ServiceTokenSource', 'AuthClient', 'createTokenVerifier'] as const)('%s', (name) => {
    it.each(BAD)('timeoutMs %s: TypeError at creation, naming the option', (_what, timeoutMs) => {
      expect(() => makers()[name](timeoutMs)).toThrow(TypeError);
      expect(() => makers()[name](timeoutMs)).toThrow(/timeoutMs/);
    });
  });

  // The boundary values are taken, and requests go through with them (against real servers on loopback).
  it.each([1000, 2 ** 31 - 1])('timeoutMs %p: every client works', async (timeoutMs) => {
    const m = makers();
    await expect(m.ServiceTokenSource(timeoutMs).getToken()).resolves.toEqual(expect.any(String));
    await expect(m.AuthClient(timeoutMs).me('tok')).resolves.toEqual({ user: { id: 'u1' } });
    await expect(m.createTokenVerifier(timeoutMs).verify(await peer.userToken({ sub: 'u1' }))).resolves.toMatchObject({ subject: 'u1' });
  });
});
