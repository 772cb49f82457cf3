import type { Middleware } from 'koa';
import { OAuthError } from '@application/oauth/oauth-error';
import { isLoadRefusal } from '@application/shared/errors';
import { mapError } from '../errors/error-mapper';
import { BASIC_CHALLENGE } from '../errors/http-error';
import type { HttpState } from '../http-state';

export interface OAuthFailure {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
  /** A dependency could not be reached, or a concurrent change (503): logged as the error handler logs it. */
  outage?: { warning: string };
}

/**
 * The error side of the /oauth/* endpoints (RFC 6749 §5.2): `{error, error_description}`, never the envelope,
 * and never cached (tokens and verdicts on tokens). invalid_client is 401 with a Basic challenge; every bad
 * input the chain finds (media type, size, syntax, missing or repeated parameter) is invalid_request; a rate
 * limit is 429 `slow_down` (RFC 8628's registered code for "ask less often") with Retry-After. A 503 (a
 * dependency away, a concurrent change, a client's token cut-off ahead of this clock) is 503
 * `temporarily_unavailable` (RFC 6749 §4.1.2.1's code for it; RFC 7009 §2.2.1 names 503 for revocation) with its
 * Retry-After: until stop 52 every 5xx went to the error handler, and a client parsing RFC 6749 §5.2 got the
 * /api/v1 envelope (CONTRACT §1: /oauth/* keep their standard shape; an outside review). Only an unexpected
 * failure is left to the error handler: logged, and a 500 without internals.
 */
export function oauthErrors(): Middleware<HttpState> {
  return async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Pragma', 'no-cache');
    try {
      await next();
    } catch (error) {
      const failure = oauthFailure(error);
      if (failure === null) throw error;
      if (failure.outage) ctx.state.log.warn({ err: error }, failure.outage.warning);
      else if (isLoadRefusal(error)) ctx.state.statusIsTheAnswer = true; // a saturated queue's answer, as errorHandler()
      ctx.status = failure.status;
      ctx.set(failure.headers);
      ctx.body = failure.body;
    }
  };
}

export function oauthFailure(error: unknown): OAuthFailure | null {
  if (error instanceof OAuthError) {
    const client = error.error === 'invalid_client';
    return { status: client ? 401 : 400, headers: client ? { 'WWW-Authenticate': BASIC_CHALLENGE } : {}, body: { error: error.error, error_description: error.description } };
  }
  const mapped = mapError(error);
  if (mapped === null) return null;
  if (mapped.status === 503) {
    const failure: OAuthFailure = { status: 503, headers: mapped.headers, body: { error: 'temporarily_unavailable', error_description: mapped.body.message } };
    return mapped.outage ? { ...failure, outage: { warning: mapped.warning ?? 'dependency unreachable' } } : failure;
  }
  if (mapped.status >= 500) return null;
  if (mapped.status === 429) return { status: 429, headers: mapped.headers, body: { error: 'slow_down', error_description: mapped.body.message } };
  const fields = Object.keys(mapped.body.details ?? {});
  const description = fields.length > 0 ? `${mapped.body.message} (${fields.join(', ')})` : mapped.body.message;
  // Connection: close stays (an unread body must not be parsed as the next request).
  return { status: 400, headers: mapped.headers, body: { error: 'invalid_request', error_description: description } };
}
