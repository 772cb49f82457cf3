import type { CircuitBreaker } from './circuit-breaker';
import { AuthError, isTransient, unavailable } from './errors';
import { basicAuth, isRecord, readJson, retryAfterSeconds, send, unexpected, type FetchLike } from './http';

export interface IntrospectionOptions {
  /** auth-service's RFC 7662 endpoint, e.g. https://auth.example.com/oauth/introspect */
  url: string;
  clientId: string;
  clientSecret: string;
  /** How long an answer is reused, in ms (default 5000; never past the token's exp). */
  cacheTtlMs?: number;
  /** Most answers kept (default 10 000; the oldest goes first). */
  cacheSize?: number;
}

interface Deps {
  fetch: FetchLike;
  now: () => number;
  timeoutMs: number;
  breaker: CircuitBreaker;
}

/** auth-service's answer about one token: active or not, and for a user token the roles the account still holds. */
export interface Answer {
  active: boolean;
  /** The token's roles that the account still has (absent for a service token or an inactive one). */
  roles?: string[];
}

interface Cached {
  answer: Answer;
  until: number;
}

/** A 429 without Retry-After pauses introspection this long; a longer Retry-After is read as MAX_PAUSE_MS. */
const DEFAULT_PAUSE_MS = 5000;
const MAX_PAUSE_MS = 60_000;

/** The answer while auth-service asked to be asked less often: fail closed, no request, not a transport failure. */
function rateLimited(untilMs: number, now: number): AuthError {
  return unavailable('introspection is rate-limited by auth-service', { rate_limited: true, retry_after_seconds: Math.max(1, Math.ceil((untilMs - now) / 1000)) });
}

/**
 * Asks auth-service whether a token is still active (RFC 7662), authenticating as a client by HTTP Basic.
 * Answers are cached a few seconds and concurrent questions about one token share one request. Behind a
 * circuit breaker: while auth-service cannot be reached the answer is AUTH_UNAVAILABLE, never "active". A 429 (the
 * client's RATE_LIMIT_INTROSPECT quota) pauses every question until its Retry-After is over (at most 60 s): they
 * fail closed without a request, and the breaker counts none of it (until 2026-12-04 a 429 was a failure to reach
 * the service, each one counted, and every question still asked: an outside review).
 */
export class Introspector {
  private readonly cache = new Map<string, Cached>();
  private readonly pending = new Map<string, Promise<Answer>>();
  private readonly ttlMs: number;
  private readonly size: number;
  /** Set by a 429: no question is sent before this instant (ms, deps.now()). */
  private pausedUntil = 0;

  constructor(
    private readonly options: IntrospectionOptions,
    private readonly deps: Deps,
  ) {
    this.ttlMs = options.cacheTtlMs ?? 5000;
    this.size = options.cacheSize ?? 10_000;
  }

  /**
   * `verified` is the offline result: the service's answer must be about the same subject. The answer's roles are
   * those the account still holds (a role taken away since the token was signed is missing from them).
   */
  async ask(token: string, verified: { subject: string; claims: { exp?: number } }): Promise<Answer> {
    const now = this.deps.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return hit.answer;
    if (hit) this.cache.delete(token);
    if (now < this.pausedUntil) throw rateLimited(this.pausedUntil, now);
    let question = this.pending.get(token);
    if (!question) {
      question = this.request(token, verified.subject).finally(() => this.pending.delete(token));
      this.pending.set(token, question);
    }
    const answer = await question;
    const expMs = (verified.claims.exp ?? 0) * 1000;
    this.remember(token, { answer, until: Math.min(this.deps.now() + this.ttlMs, expMs) });
    return answer;
  }

  private request(token: string, subject: string): Promise<Answer> {
    return this.deps.breaker.run(async () => {
      const response = await sendOrUnavailable(
        this.deps.fetch,
        this.options.url,
        {
          method: 'POST',
          headers: {
            authorization: basicAuth(this.options.clientId, this.options.clientSecret),
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        },
        this.deps.timeoutMs,
      );
      const body = await readJson(response).catch(asUnavailable('introspection could not be read'));
      if (response.status >= 500) throw unexpected(response, 'introspection');
      if (response.status === 429) {
        const now = this.deps.now();
        const asked = retryAfterSeconds(response.headers.get('retry-after'), now);
        this.pausedUntil = now + Math.min(MAX_PAUSE_MS, asked === null ? DEFAULT_PAUSE_MS : asked * 1000);
        throw rateLimited(this.pausedUntil, now);
      }
      if (response.status !== 200 || !isRecord(body) || typeof body.active !== 'boolean') {
        // Our own client credentials refused, or not RFC 7662: fail closed, loudly.
        throw new AuthError('AUTH_UNAVAILABLE', 503, `introspection answered ${response.status} without an RFC 7662 body`);
      }
      if (!body.active || (body.sub !== undefined && body.sub !== subject)) return { active: false };
      const roles = body.roles;
      return Array.isArray(roles) ? { active: true, roles: roles.filter((role): role is string => typeof role === 'string') } : { active: true };
    }, isTransient);
  }

  private remember(token: string, entry: Cached): void {
    this.cache.delete(token);
    this.cache.set(token, entry);
    if (this.cache.size > this.size) this.cache.delete(this.cache.keys().next().value as string);
  }
}

/**
 * `send`, a redirect (UNEXPECTED_RESPONSE) or an introspection URL fetch cannot request (VALIDATION_ERROR) being the
 * verifier's configuration: AUTH_UNAVAILABLE, one of the codes verify() may reject with (CONTRACT §9), and counted by
 * the breaker. Until stop 48 verify({online: true}) rejected with UNEXPECTED_RESPONSE, on every call (an outside review).
 */
async function sendOrUnavailable(...args: Parameters<typeof send>): Promise<Response> {
  return send(...args).catch(asUnavailable('introspection could not be asked'));
}

/**
 * Any other AuthError as AUTH_UNAVAILABLE (see sendOrUnavailable); also an answer too long to read (readJson's
 * UNEXPECTED_RESPONSE, since 2026-12-07), as a body that is not RFC 7662 is: fail closed, counted by the breaker.
 */
const asUnavailable =
  (what: string) =>
  (error: unknown): never => {
    if (error instanceof AuthError && error.code !== 'AUTH_UNAVAILABLE') throw unavailable(`${what}: ${error.message}`);
    throw error;
  };
