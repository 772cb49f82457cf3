import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { RateLimitPolicy, RateLimitResult, RateLimiter } from '@application/ports/rate-limiter';
import { Email } from '@domain/user/email';
import { HttpErrors } from '../errors/http-error';
import type { HttpContext, HttpState } from '../http-state';
import { principalOf } from './bearer-auth';

/** The two quotas of a route; null = off. */
export interface RouteRateLimits {
  ip: RateLimitPolicy | null;
  identifier: RateLimitPolicy | null;
}

/** What a route counts per identifier, read from the body once it is validated (routing/mount.ts runs it after). */
export type IdentifierOf = (body: Record<string, unknown>) => string | null;

/**
 * Per client IP, before the body is read: a flood is refused before it costs parsing. The IP is the one
 * clientIp() resolved (socket, or X-Forwarded-For from a trusted proxy only), IPv6 counted by its network.
 */
export function limitByIp(limiter: RateLimiter, policy: RateLimitPolicy | null): Middleware<HttpState> {
  return async (ctx, next) => {
    if (policy) await consume(ctx, limiter, policy, ctx.state.clientNetwork ?? ctx.state.client.ip ?? 'unknown');
    await next();
  };
}

/**
 * Per identifier (email, username, a token's digest), after the JSON body is parsed. Counted by what was
 * submitted, whether or not an account has it. Its count stays out of the RateLimit headers unless it refuses:
 * it is the sum of everyone's requests for that identifier, from any address, so an anonymous caller would read
 * in it someone else's recent register, login, reset or resend (CONTRACT §1, §3: same answer whether or not the
 * account exists). The 429 it causes names it, and is itself the same for an existing and an unknown identifier.
 */
export function limitByIdentifier(limiter: RateLimiter, policy: RateLimitPolicy | null, identifierOf: IdentifierOf): Middleware<HttpState> {
  return async (ctx, next) => {
    const identifier = policy ? identifierOf(ctx.state.body ?? {}) : null;
    if (policy && identifier !== null && identifier !== '') await consume(ctx, limiter, policy, identifier, 'when-refused');
    await next();
  };
}

/**
 * Per signed-in user (the access token's `sub`), after bearerAuth and before the body is read: a stolen token
 * cannot turn a route that hashes or sends email into a CPU sink or an email cannon.
 */
export function limitByUser(limiter: RateLimiter, policy: RateLimitPolicy | null): Middleware<HttpState> {
  return async (ctx, next) => {
    if (policy) await consume(ctx, limiter, policy, `user:${principalOf(ctx).user.id}`);
    await next();
  };
}

/**
 * Per service client, after the client guard: counted only for an authenticated client, so that wrong secrets
 * sent with someone else's id spend the sender's per-IP quota, never that client's.
 */
export function limitByClient(limiter: RateLimiter, policy: RateLimitPolicy | null): Middleware<HttpState> {
  return async (ctx, next) => {
    const client = ctx.state.serviceClient;
    if (policy && client) await consume(ctx, limiter, policy, `client:${client.id}`);
    await next();
  };
}

/**
 * An email or username counts in its canonical form, so `Ada@Example.com ` and `ada@example.com` share a quota. A
 * blank one is skipped, as the login's DTO skips it (loginIdentifier): until a review of 2026-12-07 the quota took
 * `{"email": "", "username": "victim"}` by its blank email, the empty key, which counts nothing, while the login went
 * to "victim", whose quota it never spent.
 */
export function accountIdentifier(...fields: string[]): IdentifierOf {
  return (body) => {
    for (const field of fields) {
      const value = body[field];
      const key = typeof value === 'string' ? Email.canonicalize(value) : '';
      if (key !== '') return key;
    }
    return null;
  };
}

/** Tokens count by digest: the limiter's store never holds a usable token. */
export function tokenIdentifier(field: string): IdentifierOf {
  return (body) => {
    const value = body[field];
    return typeof value === 'string' ? createHash('sha256').update(value).digest('base64url') : null;
  };
}

/**
 * Whether a quota shows in the RateLimit headers: always, only on the request it refuses, or never (one whose
 * refusal the answer must not reveal: the new address's quota of an email change, which only withholds a mail).
 */
export type QuotaDisclosure = 'always' | 'when-refused' | 'never';

async function consume(ctx: HttpContext, limiter: RateLimiter, policy: RateLimitPolicy, key: string, disclosure: QuotaDisclosure = 'always'): Promise<void> {
  const result = await limiter.consume(policy, key);
  recordQuota(ctx, policy, result, disclosure);
  if (!result.allowed) {
    throw HttpErrors.rateLimited(result.resetSeconds);
  }
}

/**
 * Records a quota this request consumed, for the RateLimit headers and the metrics' refusal count: the
 * middleware's own, or one a use case consumed where only it knows the key (the second login step's quota per
 * account, which refuses with RATE_LIMITED itself).
 */
export function recordQuota(ctx: HttpContext, policy: RateLimitPolicy, result: RateLimitResult, disclosure: QuotaDisclosure = 'always'): void {
  const disclosed = disclosure === 'always' || (disclosure === 'when-refused' && !result.allowed);
  const applied = [...(ctx.state.rateLimits ?? []), { policy, result, disclosed }];
  ctx.state.rateLimits = applied;
  setHeaders(ctx, applied.filter((quota) => quota.disclosed));
}

/**
 * draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy lists the route's quotas this request may see (not a
 * per-identifier one that let it through); RateLimit reports the one closest to running out (remaining r,
 * seconds to reset t).
 */
function setHeaders(ctx: HttpContext, shown: { policy: RateLimitPolicy; result: RateLimitResult }[]): void {
  if (shown.length === 0) return;
  ctx.set('RateLimit-Policy', shown.map(({ policy }) => `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`).join(', '));
  const tightest = shown.reduce((a, b) => (b.result.remaining < a.result.remaining ? b : a));
  ctx.set('RateLimit', `"${tightest.policy.name}";r=${tightest.result.remaining};t=${tightest.result.resetSeconds}`);
}
