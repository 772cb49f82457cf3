import { createHash } from 'node:crypto';
import type { HttpContext } from './http-state';

/**
 * A standards-shaped document (JWKS, RFC 8414 metadata) rendered once: its JSON body as bytes, a strong ETag
 * (a hash of exactly those bytes) and the headers every answer carries. Serving it costs no serialization.
 */
export interface StaticDocument {
  readonly body: Buffer;
  readonly etag: string;
  readonly cacheControl: string;
  readonly contentType: string;
  /** The body as a string when it is all ASCII (then its length is its byte length), else null. */
  readonly ascii: string | null;
}

const CONTENT_TYPE = 'application/json; charset=utf-8';

/** The bytes Koa would have sent for `value` as a body (JSON.stringify), with their ETag. */
export function renderDocument(value: unknown, cacheControl: string): StaticDocument {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
  const text = body.toString('latin1');
  return { body, etag, cacheControl, contentType: CONTENT_TYPE, ascii: /^[\x00-\x7f]*$/.test(text) ? text : null };
}

/**
 * Rendered once per source object: the JWKS source hands out the same key-set object until the key set
 * changes (a reload after a rotation, a retired key leaving), so a new object means a new rendering.
 */
const rendered = new WeakMap<object, StaticDocument>();

export function documentFor(source: object, render: () => StaticDocument): StaticDocument {
  let document = rendered.get(source);
  if (!document) {
    document = render();
    rendered.set(source, document);
  }
  return document;
}

/** 200 with the body, or 304 without one when If-None-Match names the current ETag (RFC 9110 §13.1.2). */
export function sendDocument(ctx: HttpContext, document: StaticDocument): void {
  ctx.set('Cache-Control', document.cacheControl);
  ctx.set('ETag', document.etag);
  const ifNoneMatch = ctx.get('If-None-Match');
  if (ifNoneMatch !== '' && ifNoneMatches(ifNoneMatch, document.etag)) {
    ctx.status = 304;
    return;
  }
  ctx.set('Content-Type', document.contentType);
  ctx.body = document.body;
}

/** If-None-Match uses the weak comparison: `W/"x"` matches `"x"`; `*` matches any current representation. */
export function ifNoneMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}
