import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import { AuthClient, createTokenVerifier, ServiceTokenSource } from '../../../src/sdk';
import { OAuthPeer, PEER_AUDIENCE, PEER_ISSUER } from '../../support/oauth-peer';
import { closeServer, listenOnLoopback } from '../../support/local-server';

/**
 * An outside review (2026-12-07): the SDK read every answer whole (`response.text()`), and imported every key of a
 * JWKS, however many: a broken or hostile upstream (or whatever answers at its URL) could exhaust the memory of the
 * resource servers. Now a body is read up to a limit (1 MiB; a JWKS 256 KiB) and cancelled there, and a key set with
 * more than 100 keys is refused. A body over the limit is not the endpoint's answer: UNEXPECTED_RESPONSE for the
 * token endpoint and AuthClient, AUTH_UNAVAILABLE for the verifier (as for a body that is not JSON).
 */

/**
 * One answer, streamed in 64 KiB chunks as the client reads it: `prefix`, `padBytes` spaces (JSON whitespace, so the
 * whole is valid JSON), `suffix`. Records whether it was sent to its end before the client hung up.
 */
interface Big {
  status: number;
  prefix: string;
  padBytes: number;
  suffix: string;
  /** Send Content-Length (else chunked: the client only finds out by counting). */
  declared: boolean;
}

class BigAnswers {
  answers = new Map<string, Big>();
  finished = new Map<string, boolean>();
  private server: Server | null = null;
  base = '';

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      req.resume();
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const big = this.answers.get(path);
      if (!big) return void res.writeHead(404).end();
      this.finished.set(path, false);
      const headers: Record<string, string | number> = { 'content-type': 'application/json' };
      if (big.declared) headers['content-length'] = Buffer.byteLength(big.prefix) + big.padBytes + Buffer.byteLength(big.suffix);
      res.writeHead(big.status, headers);
      res.write(big.prefix);
      const chunk = Buffer.alloc(64 * 1024, ' ');
      let left = big.padBytes;
      const pump = (): void => {
        while (left > 0 && !res.destroyed) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= part.length;
          if (!res.write(part)) return void res.once('drain', pump);
        }
        if (res.destroyed) return;
        res.end(big.suffix, () => this.finished.set(path, true));
      };
      pump();
    });
    this.base = await listenOnLoopback(server);
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.server = null;
  }
}

// The documented limits (src/sdk/http.ts MAX_BODY_BYTES, src/sdk/jwks-cache.ts MAX_JWKS_BYTES and MAX_JWKS_KEYS).
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_JWKS_BYTES = 256 * 1024;
const MAX_JWKS_KEYS = 100;
const PAD = 32 * 1024 * 1024; // 32 MiB: far more than the socket buffers hold, so a client that stops reading is seen

describe('SDK: answers are read up to a limit', () => {
  let big: BigAnswers;
  let peer: OAuthPeer;
  beforeAll(async () => {
    big = await new BigAnswers().start();
    peer = await new OAuthPeer().start();
  });
  afterAll(async () => {
    await big.stop();
    await peer.stop();
  });

  it.each([
    ['chunked (counted while read)', false],
    ['with Content-Length', true],
  ])('/oauth/token answering a 32 MiB token response, %s: UNEXPECTED_RESPONSE, and the body is not read to its end', async (_how, declared) => {
    big.answers.set('/oauth/token', { status: 200, prefix: '{"access_token":"t","token_type":"Bearer","expires_in":900', padBytes: PAD, suffix: '}', declared });
    const tokens = new ServiceTokenSource({ tokenUrl: `${big.base}/oauth/token`, clientId: 'c', clientSecret: 's', retries: 0 });
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 200 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(big.finished.get('/oauth/token')).toBe(false);
  });

  it('a 5xx page over the limit is AUTH_UNAVAILABLE (transient, as any 5xx), not UNEXPECTED_RESPONSE', async () => {
    big.answers.set('/oauth/token', { status: 502, prefix: '<html>', padBytes: PAD, suffix: '</html>', declared: false });
    const tokens = new ServiceTokenSource({ tokenUrl: `${big.base}/oauth/token`, clientId: 'c', clientSecret: 's', retries: 0 });
    await expect(tokens.getToken()).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
  });

  it('a body of exactly the limit is still read (1 MiB)', async () => {
    const prefix = '{"access_token":"t","token_type":"Bearer","expires_in":900';
    big.answers.set('/oauth/token', { status: 200, prefix, padBytes: MAX_BODY_BYTES - prefix.length - 1, suffix: '}', declared: false });
    const tokens = new ServiceTokenSource({ tokenUrl: `${big.base}/oauth/token`, clientId: 'c', clientSecret: 's', retries: 0 });
    await expect(tokens.getToken()).resolves.toBe('t');
  });

  it('AuthClient: an envelope over 1 MiB is UNEXPECTED_RESPONSE, not read to its end', async () => {
    big.answers.set('/api/v1/users/me', { status: 200, prefix: '{"success":true,"data":{"user":{"id":"u1"}},"meta":{}', padBytes: PAD, suffix: '}', declared: false });
    const client = new AuthClient({ baseUrl: big.base, retries: 0 });
    await expect(client.me('tok')).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 200 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(big.finished.get('/api/v1/users/me')).toBe(false);
  });

  it('verifier: introspection answering over 1 MiB fails closed (AUTH_UNAVAILABLE), not read to its end', async () => {
    big.answers.set('/oauth/introspect', { status: 200, prefix: '{"active":true', padBytes: PAD, suffix: '}', declared: false });
    const introspection = { url: `${big.base}/oauth/introspect`, clientId: 'c', clientSecret: 's' };
    const verifier = createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl, introspection });
    const token = await peer.userToken();
    await expect(verifier.verify(token, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(big.finished.get('/oauth/introspect')).toBe(false);
  });

  describe('the JWKS', () => {
    /** The peer's own key set (the key its tokens are signed with), with `extra` keys before it and `pad` spaces. */
    const serveJwks = async (extra: number, padBytes = 0) => {
      const own = ((await (await fetch(peer.jwksUrl)).json()) as { keys: unknown[] }).keys;
      const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const other = await exportJWK(publicKey);
      const keys = [...Array.from({ length: extra }, (_, i) => ({ ...other, kid: `other-${i}`, use: 'sig', alg: 'EdDSA' })), ...own];
      const body = JSON.stringify({ keys });
      big.answers.set('/jwks', { status: 200, prefix: body.slice(0, -1), padBytes, suffix: '}', declared: false });
      return keys.length;
    };
    const verify = async () =>
      createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: `${big.base}/jwks` })
        .verify(await peer.userToken({ sub: 'u1' }))
        .then((verified) => verified.subject, (error: { code: string }) => error.code);

    it(`a key set over ${MAX_JWKS_BYTES} bytes is AUTH_UNAVAILABLE, not read to its end`, async () => {
      await serveJwks(0, PAD);
      expect(await verify()).toBe('AUTH_UNAVAILABLE');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(big.finished.get('/jwks')).toBe(false);
    });

    it(`a key set of ${MAX_JWKS_KEYS + 1} keys is refused (AUTH_UNAVAILABLE); one of ${MAX_JWKS_KEYS} is taken`, async () => {
      expect(await serveJwks(MAX_JWKS_KEYS)).toBe(MAX_JWKS_KEYS + 1);
      expect(await verify()).toBe('AUTH_UNAVAILABLE');
      expect(await serveJwks(MAX_JWKS_KEYS - 1)).toBe(MAX_JWKS_KEYS);
      expect(await verify()).toBe('u1');
    });

    it('a key set just under 256 KiB is read', async () => {
      await serveJwks(0, MAX_JWKS_BYTES - 2048);
      expect(await verify()).toBe('u1');
    });
  });
});
