import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthClient, ServiceTokenSource, createTokenVerifier } from '../../../src/sdk';

/**
 * A security review (2026-12-05): fetch follows a 307/308 by sending the request body again to wherever Location
 * points, another origin included, and the SDK's bodies carry client secrets, passwords, refresh tokens and the
 * tokens being introspected. Anything answering for auth-service's URL could collect them. The SDK now follows no
 * redirect: UNEXPECTED_RESPONSE, and nothing reaches the other origin.
 */
describe('SDK requests do not follow redirects', () => {
  let elsewhere: Server;
  let redirecting: Server;
  let received: string[];
  let status: number;
  let base: string;

  const listen = async (server: Server, host: string): Promise<number> => {
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return (server.address() as AddressInfo).port;
  };

  beforeAll(async () => {
    received = [];
    elsewhere = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const elsewherePort = await listen(elsewhere, '127.0.0.1');
    redirecting = createServer((req, res) => {
      req.resume();
      res.writeHead(status, { location: `http://127.0.0.1:${elsewherePort}${req.url}` }).end();
    });
    base = `http://localhost:${await listen(redirecting, 'localhost')}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => elsewhere.close(resolve));
    await new Promise((resolve) => redirecting.close(resolve));
  });

  it.each([307, 308, 302, 301])('%i: AuthClient.login, ServiceTokenSource (secret in the body), introspection and the JWKS send nothing on', async (code) => {
    status = code;
    received.length = 0;
    const client = new AuthClient({ baseUrl: base, retries: 0 });
    await expect(client.login({ email: 'ada@example.com', password: 'correct horse battery' })).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: code });

    const source = new ServiceTokenSource({ tokenUrl: `${base}/oauth/token`, clientId: 'cid', clientSecret: 'S3CRET', authMethod: 'body', retries: 0 });
    await expect(source.getToken()).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: code });

    const verifier = createTokenVerifier({
      issuer: 'https://auth.example.com',
      audience: 'example-api',
      jwksUrl: `${base}/.well-known/jwks.json`,
      introspection: { url: `${base}/oauth/introspect`, clientId: 'cid', clientSecret: 'S3CRET' },
    });
    const token = 'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSJ9.c2ln';
    // The verifier's own URLs redirecting is its configuration, not the token: AUTH_UNAVAILABLE (503), never the 401
    // INVALID_TOKEN that makes callers refresh or sign the user out (an outside review, stop 48), nor a code
    // CONTRACT §9 does not list for verify().
    for (let i = 0; i < 3; i += 1) {
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
      await expect(verifier.verify(token, { online: true })).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    }

    expect(received).toEqual([]);
  });
});
