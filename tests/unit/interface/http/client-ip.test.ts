import Koa from 'koa';
import request from 'supertest';
import type { HttpState } from '@interface/http/http-state';
import { cleanUserAgent, clientIp, networkOf } from '@interface/http/middleware/client-ip';

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

  it('reads the User-Agent as UTF-8 and replaces control and bidirectional characters (a review of stop 63)', async () => {
    const utf8 = await appTrusting([]).get('/').set('User-Agent', Buffer.from('Navigateur/1.0 (Français; 日本)', 'utf8').toString('latin1'));
    expect(utf8.body.userAgent).toBe('Navigateur/1.0 (Français; 日本)');
    // 0x9B (CSI, an 8-bit terminal escape) passes Node's header parser; U+202E reverses the text after it.
    const hostile = await appTrusting([]).get('/').set('User-Agent', `evil\u009b31m ${Buffer.from('\u202Egnp.exe', 'utf8').toString('latin1')}`);
    expect(hostile.body.userAgent).toBe('evil\ufffd31m \ufffdgnp.exe');
    expect(cleanUserAgent(Buffer.from('😀'.repeat(600), 'utf8').toString('latin1'))).toBe('😀'.repeat(512));
    expect(cleanUserAgent('   ')).toBeNull();
  });

  it('keeps at most 512 characters of the User-Agent and null when absent', async () => {
    const long = await appTrusting([]).get('/').set('User-Agent', `  ${'u'.repeat(600)}  `);
    expect(long.body.userAgent).toBe('u'.repeat(512));
    const none = await appTrusting([]).get('/').unset('User-Agent');
    expect(none.body.userAgent).toBeNull();
  });
});

describe('networkOf: what per-IP rate limits count', () => {
  it('keeps an IPv4 address as is', () => {
    expect(networkOf('203.0.113.7', 64)).toBe('203.0.113.7');
  });

  it('reduces IPv6 to its /64 by default, whatever the notation', () => {
    const net = '2001:db8:85a3:8d3:0:0:0:0/64';
    for (const form of ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:0db8:85a3:08d3:ffff:ffff:ffff:ffff', '2001:DB8:85A3:8D3::1', '2001:db8:85a3:8d3::']) {
      expect({ form, net: networkOf(form, 64) }).toEqual({ form, net });
    }
    expect(networkOf('2001:db8:85a3:8d4::1', 64)).not.toBe(net);
  });

  it('handles :: at either end and in the middle', () => {
    expect(networkOf('::1', 64)).toBe('0:0:0:0:0:0:0:0/64');
    expect(networkOf('::1', 128)).toBe('0:0:0:0:0:0:0:1/128');
    expect(networkOf('fd00::', 48)).toBe('fd00:0:0:0:0:0:0:0/48');
    expect(networkOf('2001:db8::abcd:1', 112)).toBe('2001:db8:0:0:0:0:abcd:0/112');
  });

  it('masks inside a group when the prefix is not a multiple of 16', () => {
    expect(networkOf('2001:db8:abcd:ef12::1', 56)).toBe('2001:db8:abcd:ef00:0:0:0:0/56');
    expect(networkOf('2001:db8:ffff:ffff::1', 36)).toBe('2001:db8:f000:0:0:0:0:0/36');
  });

  it('drops a zone id', () => {
    expect(networkOf('fe80::1%eth0', 64)).toBe('fe80:0:0:0:0:0:0:0/64');
    expect(networkOf('fe80::2%2', 64)).toBe(networkOf('fe80::1%eth0', 64));
  });

  it('treats IPv4-mapped IPv6 as the IPv4 address, dotted or hex', () => {
    expect(networkOf('::ffff:198.51.100.9', 64)).toBe('198.51.100.9');
    expect(networkOf('::FFFF:c633:6409', 64)).toBe('198.51.100.9');
    expect(networkOf('0:0:0:0:0:ffff:198.51.100.9', 64)).toBe('198.51.100.9');
    // Other embedded-IPv4 forms are IPv6 networks (NAT64 shares one prefix).
    expect(networkOf('64:ff9b::198.51.100.9', 96)).toBe('64:ff9b:0:0:0:0:0:0/96');
  });

  it('returns anything that is not an address unchanged', () => {
    expect(networkOf('unknown', 64)).toBe('unknown');
  });
});

describe('client network on the request state', () => {
  it('is the /64 of a forwarded IPv6 address and the IPv4 of a mapped one', async () => {
    const app = new Koa<HttpState>();
    app.use(clientIp(['127.0.0.1', '::1'], 48));
    app.use(async (ctx) => {
      ctx.body = { ip: ctx.state.client.ip, network: ctx.state.clientNetwork };
    });
    const v6 = await request(app.callback()).get('/').set('X-Forwarded-For', '2001:db8:1:2::7');
    expect(v6.body).toEqual({ ip: '2001:db8:1:2::7', network: '2001:db8:1:0:0:0:0:0/48' });
    const mapped = await request(app.callback()).get('/').set('X-Forwarded-For', '::ffff:203.0.113.5');
    expect(mapped.body).toEqual({ ip: '203.0.113.5', network: '203.0.113.5' });
  });
});
