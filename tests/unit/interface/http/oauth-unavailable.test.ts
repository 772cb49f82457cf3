import Koa from 'koa';
import request from 'supertest';
import { Errors } from '@application/shared/errors';
import { oauthErrors, oauthFailure } from '@interface/http/middleware/oauth-errors';
import type { HttpState, RequestLog } from '@interface/http/http-state';

/**
 * /oauth/token, /oauth/introspect and /oauth/revoke answer a 503 in RFC 6749's shape (§5.2, with §4.1.2.1's
 * temporarily_unavailable; RFC 7009 §2.2.1 names 503 for revocation), with its Retry-After: until stop 52 it
 * reached the error handler and the /api/v1 envelope (an outside review). A real 500 still goes there.
 */
describe('oauthErrors: a 503 is temporarily_unavailable, not the envelope', () => {
  const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const contended = Object.assign(new Error('could not serialize access'), { code: '40001' });

  it.each([
    ['a database away', unreachable, '5'],
    ['a concurrent change', contended, '1'],
    ["a client's cut-off ahead of this clock", Errors.clientTokensCutOffAhead(3), '3'],
  ])('%s', (_name, error, retryAfter) => {
    expect(oauthFailure(error)).toMatchObject({
      status: 503,
      headers: { 'Retry-After': retryAfter },
      body: { error: 'temporarily_unavailable', error_description: expect.any(String) },
    });
  });

  it('leaves an unexpected failure to the error handler (a 500 in the envelope)', () => {
    expect(oauthFailure(new Error('a bug'))).toBeNull();
  });

  it('answers through Koa with the body, Retry-After and no-store, and logs the outage as the error handler does', async () => {
    const warnings: string[] = [];
    const log: RequestLog = { info: () => undefined, warn: (_fields, message) => warnings.push(message), error: () => undefined };
    const app = new Koa<HttpState>();
    app.use(async (ctx, next) => {
      ctx.state.log = log;
      await next();
    });
    app.use(oauthErrors());
    app.use(async () => {
      throw unreachable;
    });
    const res = await request(app.callback()).post('/oauth/introspect');
    expect([res.status, res.body, res.headers['retry-after'], res.headers['cache-control']]).toEqual([
      503,
      { error: 'temporarily_unavailable', error_description: 'The service cannot reach one of its dependencies. Try again shortly.' },
      '5',
      'no-store',
    ]);
    expect(warnings).toEqual(['dependency unreachable']);
  });
});
