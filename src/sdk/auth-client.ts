import { withRetries, type BackoffOptions } from './backoff';
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker';
import { AuthError, checkedToken, countsAgainstCircuit, isTransient, notSent } from './errors';
import { assertBuildable, checkTimeoutMs, globalFetch, isRecord, readJson, retryAfterSeconds, sendBuilt, unexpected, type FetchLike } from './http';
import { createSession, type SessionFetch, type SessionOptions } from './session';
import type { LoginBody, LoginResult, LogoutScope, Message, RefreshBody, RegisterBody, RegisterResult, Tokens, User, ValidateResult, VerifyMfaBody } from './types';

export interface AuthClientOptions extends Omit<BackoffOptions, 'retries'> {
  /** The service origin, e.g. https://auth.example.com (the client adds /api/v1). */
  baseUrl: string;
  /** Deadline of one request in whole ms, 1 to 2^31-1 (default 5 s); anything else is a TypeError here. */
  timeoutMs?: number;
  /** Retries of safe calls (validate, me) on network errors and 5xx (default 2). Others are never retried. */
  retries?: number;
  /** Default: opens after 5 consecutive failures to reach the service, trial call after 10 s. */
  breaker?: CircuitBreakerOptions;
  fetch?: FetchLike;
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  accessToken?: string;
}

/**
 * Typed calls to auth-service's /api/v1 routes. Each resolves to the envelope's `data`; a refusal rejects with
 * AuthError carrying the answer's `code` and `status`; a service that cannot be reached, AUTH_UNAVAILABLE; input
 * that cannot make a request, INVALID_TOKEN (a token argument) or VALIDATION_ERROR, without sending anything.
 */
export class AuthClient {
  private readonly base: string;
  private readonly breaker: CircuitBreaker;
  private readonly fetchFn: FetchLike;

  constructor(private readonly options: AuthClientOptions) {
    checkTimeoutMs(options.timeoutMs);
    this.base = `${options.baseUrl.replace(/\/+$/, '')}/api/v1`;
    this.breaker = new CircuitBreaker(options.breaker);
    this.fetchFn = options.fetch ?? globalFetch;
  }

  register(body: RegisterBody): Promise<RegisterResult> {
    return this.call({ method: 'POST', path: '/auth/register', body });
  }
  verifyEmail(body: { token: string }): Promise<{ user: User }> {
    return this.call({ method: 'POST', path: '/auth/verify', body });
  }
  resendVerification(body: { email: string }): Promise<Message> {
    return this.call({ method: 'POST', path: '/auth/verify/resend', body });
  }
  login(body: LoginBody): Promise<LoginResult> {
    return this.call({ method: 'POST', path: '/auth/login', body });
  }
  verifyMfa(body: VerifyMfaBody): Promise<{ user: User; tokens: Tokens }> {
    return this.call({ method: 'POST', path: '/auth/mfa/verify', body });
  }
  refresh(body: RefreshBody): Promise<{ tokens: Tokens }> {
    return this.call({ method: 'POST', path: '/auth/refresh', body });
  }
  logout(accessToken: string, body: { scope?: LogoutScope } = {}): Promise<Message> {
    return this.call({ method: 'POST', path: '/auth/logout', body, accessToken });
  }
  requestPasswordReset(body: { email: string }): Promise<Message> {
    return this.call({ method: 'POST', path: '/auth/password/reset', body });
  }
  confirmPasswordReset(body: { token: string; new_password: string }): Promise<Message> {
    return this.call({ method: 'POST', path: '/auth/password/confirm', body });
  }
  validate(accessToken: string): Promise<ValidateResult> {
    return this.call({ method: 'GET', path: '/auth/validate', accessToken });
  }
  me(accessToken: string): Promise<{ user: User }> {
    return this.call({ method: 'GET', path: '/users/me', accessToken });
  }

  /**
   * A fetch-like function for absolute URLs that sends the session's bearer token and, on a 401 refusing the token (WWW-Authenticate), refreshes
   * once (one refresh shared by concurrent calls), tells `onTokens`, and retries once.
   */
  session(tokens: Tokens, options: SessionOptions = {}): SessionFetch {
    return createSession(tokens, options, (refreshToken) => this.refresh({ refresh_token: refreshToken }).then((r) => r.tokens), this.fetchFn);
  }

  /**
   * Input that cannot make a request (a token that is not one, a body that is not JSON, a request fetch cannot
   * build) is refused here, before the breaker and the retries: nothing is sent, nothing is retried, and the
   * circuit does not count it (were it counted, two calls with a token holding a line break would open the
   * circuit for every caller of this client).
   */
  private async call<T>(call: Call): Promise<T> {
    const request = this.build(call);
    const once = () => this.breaker.run(() => this.send<T>(call, request), countsAgainstCircuit);
    // Only safe calls are retried: a retried POST could log in twice or burn a one-time token.
    return call.method === 'GET' ? withRetries(once, isTransient, { ...this.options, retries: this.options.retries ?? 2 }) : once();
  }

  private build({ method, path, body, accessToken }: Call): { url: string; init: RequestInit } {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (accessToken !== undefined) headers.authorization = `Bearer ${checkedToken(accessToken)}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = json(body);
    }
    const url = `${this.base}${path}`;
    assertBuildable(url, init);
    return { url, init };
  }

  private async send<T>({ method, path }: Call, { url, init }: { url: string; init: RequestInit }): Promise<T> {
    const response = await sendBuilt(this.fetchFn, url, init, this.options.timeoutMs ?? 5000);
    const envelope = await readJson(response);
    if (isRecord(envelope) && envelope.success === true && isRecord(envelope.data)) return envelope.data as T;
    if (isRecord(envelope) && envelope.success === false && isRecord(envelope.error) && typeof envelope.error.code === 'string') {
      const { code, message, details } = envelope.error;
      const requestId = isRecord(envelope.meta) && typeof envelope.meta.request_id === 'string' ? envelope.meta.request_id : undefined;
      // Until 2026-12-07 the header was dropped: a caller of login() could not tell its user how long a lock lasts.
      const wait = retryAfterSeconds(response.headers.get('retry-after'), Date.now()) ?? undefined;
      throw new AuthError(code, response.status, typeof message === 'string' ? message : code, isRecord(details) ? details : undefined, requestId, wait);
    }
    throw unexpected(response, `${method} ${path}`);
  }
}

function json(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch {
    throw notSent('the body cannot be serialised as JSON');
  }
}
