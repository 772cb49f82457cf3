import { BlockList, isIP } from 'node:net';
import type { Middleware } from 'koa';
import type { HttpState } from '../http-state';

const USER_AGENT_MAX = 512;

/**
 * Resolves the client address. X-Forwarded-For counts only when the socket peer is a configured proxy, and then
 * only its right-most untrusted entry: everything left of that was written by the client and can be forged.
 */
export function clientIp(trustedProxies: string[]): Middleware<HttpState> {
  const trusted = toBlockList(trustedProxies);
  return async (ctx, next) => {
    const peer = normalize(ctx.req.socket.remoteAddress ?? '');
    const ip = trusted && peer !== null && isTrusted(trusted, peer) ? fromForwarded(trusted, peer, ctx.get('X-Forwarded-For')) : peer;
    const userAgent = ctx.get('User-Agent').trim().slice(0, USER_AGENT_MAX);
    ctx.state.client = { ip, userAgent: userAgent === '' ? null : userAgent, requestId: ctx.state.requestId };
    await next();
  };
}

/** Entries are single addresses or CIDR ranges (`10.0.0.0/8`, `fd00::/8`). */
function toBlockList(entries: string[]): BlockList | null {
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const raw of entries) {
    const [address = '', prefix] = raw.trim().split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(address) === 0) continue;
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

function isTrusted(list: BlockList, ip: string): boolean {
  return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

function fromForwarded(trusted: BlockList, peer: string, header: string): string {
  const hops = header.split(',').map((hop) => hop.trim()).filter((hop) => hop !== '');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = normalize(hops[i] ?? '');
    // Garbage means the chain cannot be followed further; the last address a trusted hop saw is the answer.
    if (hop === null) return client;
    client = hop;
    if (!isTrusted(trusted, hop)) return hop;
  }
  return client;
}

/** A bare IP address: IPv4-mapped IPv6 unwrapped, ports (`1.2.3.4:80`, `[::1]:80`) stripped; null if not an IP. */
function normalize(raw: string): string | null {
  let value = raw;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1] !== undefined) value = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  if (isIP(value) === 0) return null;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(value);
  return mapped?.[1] ?? value.toLowerCase();
}
