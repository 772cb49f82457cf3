/**
 * A tiny stand-in for auth-service's standards endpoints, for the SDK's tests while /oauth/* is not on this
 * branch: node:http answering RFC 6749 §4.4 / §5.2 (/oauth/token), RFC 7662 (/oauth/introspect) and RFC 7517
 * (/.well-known/jwks.json) with real EdDSA-signed at+jwt tokens. It is the peer, not the thing under test: it
 * counts requests and fails on demand (a status, or a reset connection) so retries and circuits can be seen.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { closeServer, listenOnLoopback } from './local-server';

export const PEER_ISSUER = 'https://auth.peer.test';
export const PEER_AUDIENCE = 'peer-api';

export interface PeerClient {
  id: string;
  secret: string;
  scopes: string[];
}

type Failure = number | 'reset';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

export class OAuthPeer {
  readonly clients: PeerClient[] = [{ id: 'orders', secret: 's3cret:with space&more', scopes: ['orders:read', 'orders:write'] }];
  tokenTtlSeconds = 900;
  private readonly counts = new Map<string, number>();
  private readonly failures = new Map<string, Failure[]>();
  private readonly revokedSessions = new Set<string>();
  private keys: SigningKey[] = [];
  private server: Server | null = null;
  /** The last request's headers and form per path, to check what the SDK sent. */
  readonly last = new Map<string, { headers: IncomingMessage['headers']; form: URLSearchParams }>();
  base = '';

  async start(port = 0): Promise<this> {
    if (this.keys.length === 0) await this.rotate();
    const server = createServer((req, res) => void this.handle(req, res));
    this.base = await listenOnLoopback(server, port);
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await closeServer(server);
  }

  get port(): number {
    return Number(new URL(this.base).port);
  }

  get tokenUrl() { return `${this.base}/oauth/token`; }
  get introspectUrl() { return `${this.base}/oauth/introspect`; }
  get jwksUrl() { return `${this.base}/.well-known/jwks.json`; }

  requests(path: string): number {
    return this.counts.get(path) ?? 0;
  }

  /** The next requests to `path` fail, one failure each: an HTTP status (with a JSON body) or a reset socket. */
  failNext(path: string, ...failures: Failure[]): void {
    this.failures.set(path, [...(this.failures.get(path) ?? []), ...failures]);
  }

  /** Publishes a new key and signs with it from now on (the old ones stay published). */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const kid = randomUUID();
    this.keys.push({ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'EdDSA' } });
    return kid;
  }

  /** A user access token as auth-service signs it (CONTRACT §4), with `overrides` of claims or header. */
  async userToken(options: { sub?: string; sid?: string; roles?: string[]; claims?: Record<string, unknown>; header?: Record<string, unknown> } = {}): Promise<string> {
    const key = this.keys.at(-1)!;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: PEER_ISSUER,
      aud: PEER_AUDIENCE,
      sub: options.sub ?? randomUUID(),
      jti: randomUUID(),
      iat: now,
      nbf: now,
      exp: now + this.tokenTtlSeconds,
      sid: options.sid ?? randomUUID(),
      roles: options.roles ?? ['user'],
      email_verified: true,
      amr: ['pwd'],
      ...options.claims,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid, ...options.header }).sign(key.privateKey);
  }

  /** Ends a session: its tokens introspect as inactive from now on. */
  revokeSession(sid: string): void {
    this.revokedSessions.add(sid);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.counts.set(path, this.requests(path) + 1);
    const body = await readBody(req);
    const failure = this.failures.get(path)?.shift();
    if (failure === 'reset') return void req.socket.destroy();
    if (failure === 429) {
      // auth-service's quota answer: slow_down with Retry-After (RFC 9110 §10.2.3).
      res.setHeader('retry-after', '30');
      return json(res, 429, { error: 'slow_down' });
    }
    if (failure !== undefined) return json(res, failure, { error: 'temporarily_unavailable' });
    const form = req.headers['content-type']?.startsWith('application/json')
      ? new URLSearchParams(JSON.parse(body || '{}') as Record<string, string>)
      : new URLSearchParams(body);
    this.last.set(path, { headers: req.headers, form });
    if (req.method === 'GET' && path === '/.well-known/jwks.json') return json(res, 200, { keys: this.keys.map((k) => k.jwk) });
    if (req.method === 'POST' && path === '/oauth/token') return this.token(req, res, form);
    if (req.method === 'POST' && path === '/oauth/introspect') return this.introspect(req, res, form);
    json(res, 404, { error: 'not_found' });
  }

  /** RFC 6749 §2.3.1 + §3.2.1: exactly one client authentication method. */
  private authenticate(req: IncomingMessage, form: URLSearchParams): PeerClient | 'both' | null {
    const header = req.headers.authorization;
    const inBody = form.has('client_id') || form.has('client_secret');
    if (header && inBody) return 'both';
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    if (header?.startsWith('Basic ')) {
      const [rawId, rawSecret] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      const decode = (v: string | undefined) => (v === undefined ? null : new URLSearchParams(`v=${v}`).get('v'));
      [id, secret] = [decode(rawId), decode(rawSecret)];
    }
    const client = this.clients.find((c) => c.id === id);
    if (!client || secret === null) return null;
    const a = Buffer.from(secret);
    const b = Buffer.from(client.secret);
    return a.length === b.length && timingSafeEqual(a, b) ? client : null;
  }

  private async token(req: IncomingMessage, res: ServerResponse, form: URLSearchParams): Promise<void> {
    const client = this.authenticate(req, form);
    if (client === 'both') return oauthError(res, 400, 'invalid_request');
    if (!client) return oauthError(res, 401, 'invalid_client');
    if (form.get('grant_type') !== 'client_credentials') return oauthError(res, 400, 'unsupported_grant_type');
    const asked = (form.get('scope') ?? client.scopes.join(' ')).split(' ').filter(Boolean);
    if (asked.some((s) => !client.scopes.includes(s))) return oauthError(res, 400, 'invalid_scope');
    const key = this.keys.at(-1)!;
    const scope = asked.join(' ');
    const accessToken = await new SignJWT({ token_type: 'service', scope })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.kid })
      .setSubject(client.id).setIssuer(PEER_ISSUER).setAudience(PEER_AUDIENCE).setJti(randomUUID())
      .setIssuedAt().setNotBefore('0s').setExpirationTime(`${this.tokenTtlSeconds}s`)
      .sign(key.privateKey);
    json(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: this.tokenTtlSeconds, scope });
  }

  private async introspect(req: IncomingMessage, res: ServerResponse, form: URLSearchParams): Promise<void> {
    const client = this.authenticate(req, form);
    if (!client || client === 'both') return oauthError(res, 401, 'invalid_client');
    try {
      const { payload } = await jwtVerify(form.get('token') ?? '', async (header) => {
        const key = this.keys.find((k) => k.kid === header.kid);
        if (!key) throw new Error('unknown kid');
        return key.jwk;
      }, { issuer: PEER_ISSUER, audience: PEER_AUDIENCE, typ: 'at+jwt' });
      if (typeof payload.sid === 'string' && this.revokedSessions.has(payload.sid)) return json(res, 200, { active: false });
      json(res, 200, { active: true, ...payload, token_type: payload.token_type ?? 'user' });
    } catch {
      json(res, 200, { active: false });
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => resolve(body));
    req.on('error', () => resolve(body));
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function oauthError(res: ServerResponse, status: number, error: string): void {
  if (status === 401) res.setHeader('www-authenticate', 'Basic realm="auth-service"');
  json(res, status, { error });
}

export async function startOAuthPeer(): Promise<OAuthPeer> {
  return new OAuthPeer().start();
}
