import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import cors from '@koa/cors';
import type { Middleware } from 'koa';
import helmet from 'koa-helmet';
import type { HttpState } from '../http-state';

/** An API serves no documents: nothing may be loaded, framed or sniffed. */
export function securityHeaders(): Middleware<HttpState> {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/**
 * The response headers a browser client may read: exactly the ones the service sends (rate-limit.ts writes
 * RateLimit-Policy and RateLimit, the error mapper Retry-After and WWW-Authenticate, request-id.ts X-Request-ID).
 */
export const EXPOSED_HEADERS = ['X-Request-ID', 'WWW-Authenticate', 'Retry-After', 'RateLimit-Policy', 'RateLimit'] as const;

/**
 * CORS for the configured origins only; the request's Origin is echoed only when it is one of them, never
 * reflected blindly. Bearer tokens travel in a header, so no credentials (cookies) are allowed.
 * Returns null when no origin is configured (CORS off).
 */
export function corsPolicy(origins: string[]): Middleware<HttpState> | null {
  if (origins.length === 0) return null;
  const allowed = new Set(origins);
  return cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      return allowed.has(origin) ? origin : '';
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'X-Request-ID'],
    exposeHeaders: [...EXPOSED_HEADERS],
    credentials: false,
    maxAge: 600,
  });
}

/** Every /api/v1 response may carry tokens or personal data: no cache may keep it (CONTRACT §1). */
export function noStore(prefix: string): Middleware<HttpState> {
  return async (ctx, next) => {
    if (ctx.path === prefix || ctx.path.startsWith(`${prefix}/`)) {
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Pragma', 'no-cache');
    }
    await next();
  };
}

/**
 * The headers securityHeaders() sets, captured once by running it on a detached response: helmet's are the
 * same for every response, so the static-document fast path sets these instead of running helmet per request.
 */
export function securityHeaderValues(): Record<string, string> {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  const headers: Record<string, string> = {};
  // Recorded as helmet names them (getHeaders() would give them lower-cased).
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name, value) => {
    headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    return setHeader(name, value);
  };
  // helmet sets its headers synchronously, before the promise koa-helmet wraps it in settles.
  void securityHeaders()({ req, res } as unknown as Parameters<Middleware<HttpState>>[0], async () => undefined);
  for (const name of Object.keys(headers)) if (!res.hasHeader(name)) delete headers[name];
  if (Object.keys(headers).length === 0) throw new Error('security headers could not be captured');
  return headers;
}
