import Koa from 'koa';
import request from 'supertest';
import type { HttpState } from '@interface/http/http-state';
import { clientIp } from '@interface/http/middleware/client-ip';

/** supertest connects over loopback, so the socket peer is 127.0.0.1 (possibly IPv4-mapped). */
function appTrusting(trustedProxies: string[]) {
  const app = new Koa<HttpState>();
  app.use(clientIp(trustedProxies));
  app.use(async (ctx) => {
    ctx.body = ctx.state.client;
  });
  return request(app.callback());
}

describe('client IP resolution', () => {
  it('uses the socket address when no proxy is trusted, ignoring a forged X-Forwarded-For', async () => {
    const res = await appTrusting([]).get('/').set('X-Forwarded-For', '6.6.6.6');
    expect(res.body.ip).toBe('127.0.0.1');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const res = await appTrusting(['10.0.0.1']).get('/').set('X-Forwarded-For', '6.6.6.6');
    expect(res.body.ip).toBe('127.0.0.1');
  });

  it('takes the right-most untrusted entry when the peer is a trusted proxy', async () => {
    const res = await appTrusting(['127.0.0.1', '10.0.0.0/8']).get('/').set('X-Forwarded-For', '6.6.6.6, 203.0.113.7, 10.1.2.3');
    expect(res.body.ip).toBe('203.0.113.7');
  });

  it('does not let the client pick its address by prepending entries', async () => {
    const res = await appTrusting(['127.0.0.1']).get('/').set('X-Forwarded-For', '1.1.1.1, 198.51.100.9');
    expect(res.body.ip).toBe('198.51.100.9');
  });

  it('stops at garbage in the chain and keeps the last address a trusted hop reported', async () => {
    const res = await appTrusting(['127.0.0.1', '10.0.0.0/8']).get('/').set('X-Forwarded-For', '6.6.6.6, not-an-ip, 10.0.0.2');
    expect(res.body.ip).toBe('10.0.0.2');
  });

  it('strips ports and understands IPv6 entries', async () => {
    const v4 = await appTrusting(['127.0.0.1']).get('/').set('X-Forwarded-For', '198.51.100.9:4711');
    expect(v4.body.ip).toBe('198.51.100.9');
    const v6 = await appTrusting(['127.0.0.1']).get('/').set('X-Forwarded-For', '[2001:DB8::1]:443');
    expect(v6.body.ip).toBe('2001:db8::1');
  });

  it('falls back to the peer when a trusted proxy sends no X-Forwarded-For', async () => {
    const res = await appTrusting(['127.0.0.1']).get('/');
    expect(res.body.ip).toBe('127.0.0.1');
  });

  it('keeps at most 512 characters of the User-Agent and null when absent', async () => {
    const long = await appTrusting([]).get('/').set('User-Agent', `  ${'u'.repeat(600)}  `);
    expect(long.body.userAgent).toBe('u'.repeat(512));
    const none = await appTrusting([]).get('/').unset('User-Agent');
    expect(none.body.userAgent).toBeNull();
  });
});
