import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { HttpState } from '../http-state';

/**
 * One line per request. Only method, path, status and duration: the query string may carry tokens
 * (verify links) and headers and bodies carry credentials, so none of them is logged.
 */
export function requestLogger(root: Logger): Middleware<HttpState> {
  return async (ctx, next) => {
    const log = root.child({ request_id: ctx.state.requestId });
    ctx.state.log = log;
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const fields = { method: ctx.method, path: ctx.path, status: ctx.status, duration_ms: Math.round(durationMs * 100) / 100 };
      if (ctx.status >= 500) log.error(fields, 'request failed');
      else log.info(fields, 'request completed');
    }
  };
}
