import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { HttpState } from '../http-state';

const ACCEPTED = /^[A-Za-z0-9._-]{1,128}$/;

/** Must run first: every response, including errors and 404s, carries X-Request-ID (CONTRACT §1). */
export function requestId(): Middleware<HttpState> {
  return async (ctx, next) => {
    const offered = ctx.get('X-Request-ID');
    // Anything else could inject into logs or headers downstream, so it is replaced rather than cleaned.
    const id = ACCEPTED.test(offered) ? offered : randomUUID();
    ctx.state.requestId = id;
    ctx.set('X-Request-ID', id);
    await next();
  };
}
