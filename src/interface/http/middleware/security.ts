import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import cors from '@koa/cors';
import type { Middleware } from 'koa';
import helmet from 'koa-helmet';
import type { HttpState } from '../http-state';

/**
 * An API serves no documents: nothing may be loaded, framed or sniffed. Helmet's headers here are the same on
 * every response (no nonce, nothing taken from the request), so helmet runs once, at start, against a recording
 * response, and each request only gets the recorded headers set (no promise and no option handling per request).
 */
export function securityHeaders(): Middleware<HttpState> {
  const headers = recordedHeaders(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );
  return async (ctx, next) => {
    const res = ctx.res;
    for (const [name, value] of headers) res.setHeader(name, value);
    await next();
  };
}

/** The headers a request-independent middleware sets, run once on a stand-in request. */
function recordedHeaders(middleware: Middleware<HttpState>): [string, string | string[]][] {
  const headers = new Map<string, string | string[]>();
  const res = {
    setHeader: (name: string, value: string | string[]) => void headers.set(name, value),
    removeHeader: (name: string) => void headers.delete(name),
  };
  // helmet sets every header synchronously (koa-helmet calls next once its callback resolved).
  void middleware({ req: { headers: {} }, res } as never, async () => undefined);
  if (headers.size === 0) throw new Error('security headers: helmet set no header synchronously');
  return [...headers];
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
