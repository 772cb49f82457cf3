import { jwtVerify, type JWTPayload, type JWSHeaderParameters } from 'jose';
import type { VerifiedToken, VerifyOptions } from './verified-token';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker';
import { AuthError, invalidToken, unauthenticated, unavailable } from './errors';
import { checkTimeoutMs, globalFetch, type FetchLike } from './http';
import { Introspector, type IntrospectionOptions } from './introspector';
import { JwksCache } from './jwks-cache';
import type { RevocationCheck } from './revocation-list';
import { authMiddleware, type AuthState, type MiddlewareOptions } from './koa-middleware';
import type { Middleware } from 'koa';

export type { VerifiedToken, VerifyOptions };

export interface TokenVerifierOptions {
  issuer: string;
  audience: string | string[];
  jwksUrl: string;
  /** Accepted signature algorithms (default ["EdDSA"], the service's default); never none or HS*. */
  algorithms?: string[];
  /** Clock skew tolerated, in seconds (default 60, at most 60). */
  clockTolerance?: number;
  /** Needed for `online` checks: the service's /oauth/introspect and this service's client credentials. */
  introspection?: IntrospectionOptions;
  /** The introspection circuit (default: opens after 5 consecutive failures, trial after 10 s). */
  breaker?: Omit<CircuitBreakerOptions, 'now'>;
  /** Deadline of one request to auth-service in whole ms, 1 to 2^31-1 (default 5 s); anything else is a TypeError. */
  timeoutMs?: number;
  /**
   * Revocations pushed by auth-service (`createRevocationFeed`): a token of a revoked session, or of a user cut
   * off after it was issued, is refused offline (INVALID_TOKEN) without asking auth-service.
   */
  revocations?: RevocationCheck;
  /**
   * While `revocations` is not healthy (not yet connected, or reconnecting), check every token online as if
   * `online: true` had been asked (needs `introspection`; without it, AUTH_UNAVAILABLE); once it is back after an
   * outage, the same for the tokens issued before it resumed (`resumedAt`, plus `clockTolerance`): a revocation
   * published during the outage never reached it. So for one token lifetime after a reconnection, older tokens
   * cost an introspection. Default false: the verifier keeps working offline and misses the revocations published meanwhile.
   */
  failClosedWhenDisconnected?: boolean;
  /** Injectable for tests and proxies: the fetch used, and the clock (ms since the epoch). */
  fetch?: FetchLike;
  now?: () => number;
}

export interface TokenVerifier {
  verify(token: string | undefined, options?: VerifyOptions): Promise<VerifiedToken>;
  middleware(options?: MiddlewareOptions): Middleware<AuthState>;
}

const FORBIDDEN_ALGS = /^(none|HS\d+)$/i;
const KEY_CHOOSING_HEADERS = ['jku', 'jwk', 'x5u', 'x5c'];
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  // jose skips the iss / aud check it is given undefined for: an unset `process.env.AUTH_ISSUER!` would accept every
  // issuer's tokens. Refused here, as the other configuration errors are (until stop 51 they went through).
  if (!isNonEmptyString(options.issuer)) throw new TypeError("issuer: a non-empty string (the service's JWT_ISSUER)");
  const { audience } = options;
  if (!(isNonEmptyString(audience) || (Array.isArray(audience) && audience.length > 0 && audience.every(isNonEmptyString)))) {
    throw new TypeError("audience: a non-empty string or a non-empty array of non-empty strings (the service's JWT_AUDIENCE)");
  }
  // A jwksUrl or timeoutMs no request can be made with (`process.env.AUTH_JWKS_URL!` unset, a relative path, 0) made every
  // verify AUTH_UNAVAILABLE for good, reported as an outage (until stop 51; a review): refused here instead.
  if (!isHttpUrl(options.jwksUrl)) throw new TypeError('jwksUrl: an absolute http(s) URL (the service\'s /.well-known/jwks.json)');
  checkTimeoutMs(options.timeoutMs); // a whole number of ms, 1 to 2^31-1 (since 2026-12-07: a fraction passed)
  const algorithms = options.algorithms ?? ['EdDSA'];
  if (algorithms.length === 0 || algorithms.some((alg) => FORBIDDEN_ALGS.test(alg))) {
    throw new TypeError('algorithms: asymmetric algorithms only (no none, no HS*)');
  }
  const tolerance = options.clockTolerance ?? 60;
  if (!(tolerance >= 0 && tolerance <= 60)) throw new TypeError('clockTolerance: 0 to 60 seconds');
  const now = options.now ?? Date.now;
  const fetchFn = options.fetch ?? globalFetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const { revocations } = options;
  const failClosed = options.failClosedWhenDisconnected ?? false;
  if (failClosed && !revocations) throw new TypeError('failClosedWhenDisconnected needs the revocations option');
  const jwks = new JwksCache({ jwksUrl: options.jwksUrl, fetch: fetchFn, now, timeoutMs, unknownKidIntervalMs: 30_000, maxAgeMs: 300_000, keylessRetryMs: 1000 });
  const introspector = options.introspection
    ? new Introspector(options.introspection, { fetch: fetchFn, now, timeoutMs, breaker: new CircuitBreaker({ ...options.breaker, now }) })
    : undefined;

  const resolveKey = async (header: JWSHeaderParameters) => {
    if (KEY_CHOOSING_HEADERS.some((name) => name in header)) throw invalidToken();
    const { kid, alg } = header;
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128 || typeof alg !== 'string' || !algorithms.includes(alg)) {
      throw invalidToken();
    }
    return jwks.keyFor(kid, alg);
  };

  const verifyOffline = async (token: string): Promise<VerifiedToken> => {
    if (token.length > 8192 || !JWT_SHAPE.test(token)) throw invalidToken();
    // jose decodes the signature leniently: the last character's unused low bits (and a length no base64url has)
    // give one token up to 16 spellings, each a miss of the introspection cache, each counted against the
    // introspection quota. Only the canonical one is accepted, before any work (until stop 49 all were).
    const signature = token.slice(token.lastIndexOf('.') + 1);
    if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) throw invalidToken();
    try {
      const { payload } = await jwtVerify(token, resolveKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        typ: 'at+jwt',
        clockTolerance: tolerance,
        currentDate: new Date(now()),
        requiredClaims: ['sub', 'exp', 'iat'],
      });
      // jose checks iat only with maxTokenAge; a token "issued" in the future was not issued by the service.
      if ((payload.iat as number) > now() / 1000 + tolerance) throw invalidToken();
      return toVerified(payload);
    } catch (error) {
      // AUTH_UNAVAILABLE (no key set) passes through; any other failure is one generic answer.
      if (error instanceof AuthError && error.code === 'AUTH_UNAVAILABLE') throw error;
      throw invalidToken();
    }
  };

  /**
   * Whether a revocation of this token could have been missed: the feed is not receiving, or the token was issued
   * before the feed resumed after an outage. The margin is the clock skew tolerated between this host and
   * auth-service (`iat` is auth-service's clock, rounded down to the second).
   */
  const inFeedGap = (check: RevocationCheck, verified: VerifiedToken): boolean => {
    if (!check.healthy || check.resumedAt === null) return true;
    if (check.resumedAt === undefined || check.resumedAt === 0) return false;
    return !(Number(verified.claims.iat) * 1000 >= check.resumedAt + tolerance * 1000);
  };

  const verify = async (token: string | undefined, verifyOptions: VerifyOptions = {}): Promise<VerifiedToken> => {
    if (!token) throw unauthenticated();
    const verified = await verifyOffline(token);
    if (revocations?.isRevoked(verified)) throw invalidToken();
    const online = verifyOptions.online === true || (failClosed && revocations !== undefined && inFeedGap(revocations, verified));
    if (!online) return verified;
    if (!introspector) {
      if (!verifyOptions.online) throw unavailable('the revocation feed is disconnected and no introspection is configured');
      throw new TypeError('online verification needs the introspection option');
    }
    const answer = await introspector.ask(token, verified);
    if (!answer.active) throw invalidToken();
    if (verified.tokenType === 'service') return verified;
    // The roles auth-service says the account still holds: a demoted admin's token carries its old roles until it
    // expires, and an online check must not let them through. A user token answered without roles keeps none.
    const held = new Set(answer.roles ?? []);
    const roles = verified.roles.filter((role) => held.has(role));
    // The claims too (a review of stop 60): a resource server reading `claims.roles` got the token's old roles.
    return { ...verified, roles, claims: { ...verified.claims, roles } };
  };

  return {
    verify,
    middleware: (middlewareOptions = {}) => {
      if (middlewareOptions.online && !introspector) throw new TypeError('online verification needs the introspection option');
      return authMiddleware(verify, middlewareOptions);
    },
  };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function toVerified(payload: JWTPayload): VerifiedToken {
  const sub = payload.sub as string;
  const { token_type: tokenType, sid, roles, scope } = payload as Record<string, unknown>;
  if (tokenType === 'service') {
    if (typeof scope !== 'string') throw invalidToken();
    return { subject: sub, sessionId: null, tokenType: 'service', roles: [], scopes: scope.split(' ').filter(Boolean), claims: payload };
  }
  if (tokenType !== undefined && tokenType !== 'user') throw invalidToken();
  if (typeof sid !== 'string' || !Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) throw invalidToken();
  return { subject: sub, sessionId: sid, tokenType: 'user', roles: [...(roles as string[])], scopes: [], claims: payload };
}
