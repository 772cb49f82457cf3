import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { HttpState } from '../http-state';

const ACCEPTED = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * The id a request is known by: the caller's X-Request-ID when well-formed; anything else could inject into logs
 * or headers downstream, so it is replaced rather than cleaned.
 */
export function requestIdFor(offered: string | string[] | undefined): string {
  return typeof offered === 'string' && ACCEPTED.test(offered) ? offered : randomUUID();
}

/** Must run first: every response, including errors and 404s, carries X-Request-ID (CONTRACT §1). */
export function requestId(): Middleware<HttpState> {
  return async (ctx, next) => {
    const id = requestIdFor(ctx.get('X-Request-ID'));
    ctx.state.requestId = id;
    ctx.set('X-Request-ID', id);
    await next();
  };
}
