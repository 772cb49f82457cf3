import type { Middleware } from 'koa';
import { isLoadRefusal } from '@application/shared/errors';
import { errorEnvelope } from '../envelope';
import { INTERNAL_ERROR, mapError } from '../errors/error-mapper';
import type { HttpState } from '../http-state';

/**
 * Catches everything downstream and answers with the error envelope. Unexpected errors are logged with their
 * stack here and leave the process only as a generic 500: no stack, SQL or message in the body.
 */
export function errorHandler(): Middleware<HttpState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const mapped = mapError(error);
      if (mapped === null) ctx.state.log.error({ err: error }, 'unhandled error');
      else if (mapped.outage) ctx.state.log.warn({ err: error }, mapped.warning ?? 'dependency unreachable');
      // A saturated queue's refusal is the service's designed answer under load: logged at info, not as a failure.
      if (isLoadRefusal(error)) ctx.state.statusIsTheAnswer = true;
      const { status, body, headers } = mapped ?? INTERNAL_ERROR;
      ctx.status = status;
      // Never stored by a cache, whatever the route set before it threw (a 404 under /docs/assets/ had no
      // Cache-Control, and a shared cache may keep a 404 by heuristics: a review of stop 63). Mapped headers may say more.
      ctx.set('Cache-Control', 'no-store');
      ctx.set(headers);
      ctx.body = errorEnvelope(ctx, body);
    }
  };
}
