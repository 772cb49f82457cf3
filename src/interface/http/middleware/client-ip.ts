import { BlockList, isIP } from 'node:net';
import type { Middleware } from 'koa';
import type { HttpState } from '../http-state';
import { clientGone } from './client-gone';

const USER_AGENT_MAX = 512;

/**
 * Resolves the client address. X-Forwarded-For counts only when the socket peer is a configured proxy, and then
 * only its right-most untrusted entry: everything left of that was written by the client and can be forged.
 * The client context it sets also carries the signal of the client leaving (clientGone).
 */
export function clientIp(trustedProxies: string[], ipv6Prefix = 64): Middleware<HttpState> {
  const trusted = toBlockList(trustedProxies);
  return async (ctx, next) => {
    const peer = normalize(ctx.req.socket.remoteAddress ?? '');
    const ip = trusted && peer !== null && isTrusted(trusted, peer) ? fromForwarded(trusted, peer, ctx.get('X-Forwarded-For')) : peer;
    const userAgent = cleanUserAgent(ctx.get('User-Agent'));
    ctx.state.client = { ip, userAgent, requestId: ctx.state.requestId, signal: clientGone(ctx.req, ctx.res) };
    ctx.state.clientNetwork = ip === null ? null : networkOf(ip, ipv6Prefix);
    await next();
  };
}

/**
 * What is kept of a User-Agent (sessions, the audit trail, admin and activity views): its bytes read as UTF-8 (Node
 * hands header values over as Latin-1, so a UTF-8 agent arrived garbled), every control character (C0, DEL, C1:
 * U+009B is an 8-bit terminal escape that Node's parser lets through) and every bidirectional control (U+202E shows
 * text reversed in an admin's view) replaced by U+FFFD, trimmed, at most 512 characters (a character not cut in half).
 * Until stop 63 it was only trimmed and cut (a review of the audit trail).
 */
export function cleanUserAgent(raw: string): string | null {
  const text = Buffer.from(raw, 'latin1').toString('utf8').replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd').trim();
  const kept = Array.from(text).slice(0, USER_AGENT_MAX).join('');
  return kept === '' ? null : kept;
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

/** Whether TRUSTED_PROXIES' entries trust `ip`, as the middleware decides it (for the start-up warnings). */
export function trustedBy(entries: string[]): (ip: string) => boolean {
  const list = toBlockList(entries);
  return (ip) => list !== null && isTrusted(list, ip);
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

/**
 * What per-IP quotas count: an IPv4 address as is, an IPv6 address by its first `ipv6Prefix` bits. One
 * subscriber usually holds a whole /64 (2^64 addresses), so counting full IPv6 addresses would hand out that
 * many quotas. IPv4-mapped (`::ffff:1.2.3.4`, also in hex) counts as the IPv4 address; a zone id is dropped.
 * Not an IP address: returned unchanged.
 */
export function networkOf(address: string, ipv6Prefix: number): string {
  const bare = address.split('%')[0] ?? '';
  if (isIP(bare) === 4) return bare;
  const groups = ipv6Groups(bare);
  if (groups === null) return address;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  const masked = groups.map((group, i) => {
    const bits = Math.min(16, Math.max(0, ipv6Prefix - i * 16));
    return bits === 0 ? 0 : group & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${masked.map((g) => g.toString(16)).join(':')}/${ipv6Prefix}`;
}

/** The eight 16-bit groups of an IPv6 address in any valid notation (`::`, an IPv4 tail); null if not IPv6. */
function ipv6Groups(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  const groups = [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : null;
}
