import type { Middleware } from 'koa';
import { Errors } from '@application/shared/errors';
import { HttpError } from '../errors/http-error';
import type { HttpContext, HttpState } from '../http-state';
import { assertDeclaredLength, decode, jsonBody, readLimited } from './json-body';

const FORM = 'application/x-www-form-urlencoded';
/** Both media types are named wherever one is refused: a client sending neither learns what it may send. */
const FORM_OR_JSON = 'The body must be application/x-www-form-urlencoded or application/json, in UTF-8.';

/**
 * The body of a standards-shaped endpoint (RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1): form-urlencoded as
 * the RFCs say, or JSON as CONTRACT §3 allows, into `ctx.state.body`. A form parameter may appear once only
 * (RFC 6749 §3.2) and one sent without a value counts as omitted; JSON goes through the hardened JSON reader.
 */
export function parametersBody(options: { limitBytes: number }): Middleware<HttpState> {
  const json = jsonBody({ limitBytes: options.limitBytes, unsupportedMessage: FORM_OR_JSON });
  return async (ctx, next) => {
    if (!isForm(ctx)) return json(ctx, next);
    assertDeclaredLength(ctx, options.limitBytes);
    ctx.state.body = parseForm(decode(await readLimited(ctx.req, options.limitBytes), notUtf8));
    await next();
  };
}

function notUtf8(): HttpError {
  return new HttpError('BAD_REQUEST', 'The request body is not valid UTF-8.');
}

function isForm(ctx: HttpContext): boolean {
  const [type = '', ...params] = ctx.get('Content-Type').split(';').map((part) => part.trim().toLowerCase());
  if (type !== FORM) return false;
  const charset = params.find((param) => param.startsWith('charset='));
  const encoding = ctx.get('Content-Encoding').toLowerCase();
  if ((charset !== undefined && !['charset=utf-8', 'charset="utf-8"'].includes(charset)) || (encoding !== '' && encoding !== 'identity')) {
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', FORM_OR_JSON, { Connection: 'close' });
  }
  return true;
}

function parseForm(text: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (seen.has(name)) throw Errors.validation(name, 'must not be repeated');
    seen.add(name);
    if (name === '__proto__' || name === 'constructor') throw Errors.validation(name, `property ${name} should not exist`);
    if (value !== '') body[name] = value;
  }
  return body;
}
