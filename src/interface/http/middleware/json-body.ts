import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import { Errors } from '@application/shared/errors';
import { HttpError } from '../errors/http-error';
import type { HttpContext, HttpState } from '../http-state';
import { assertNoDuplicateKeys } from './duplicate-keys';

/** Deeper documents are never legitimate here and make recursive consumers (class-transformer) overflow. */
export const MAX_JSON_DEPTH = 32;
/** Values (members and array items, at every depth) a body may hold in all. */
const MAX_JSON_VALUES = 256;

export interface JsonBodyOptions {
  limitBytes: number;
  /** Every field of the route is optional: a request without a body reads as `{}` (e.g. logout). */
  optional?: boolean;
  /** The 415's message, for a route that accepts more than JSON (the /oauth/* parameters also take a form). */
  unsupportedMessage?: string;
}

const JSON_ONLY = 'The body must be application/json in UTF-8.';

/** Reads, size-limits and parses a JSON object body into `ctx.state.body`; the route's DTO validates it next. */
export function jsonBody(options: JsonBodyOptions): Middleware<HttpState> {
  return async (ctx, next) => {
    if (options.optional === true && !hasBody(ctx.req)) {
      ctx.state.body = {};
    } else {
      assertJsonMediaType(ctx, options.unsupportedMessage ?? JSON_ONLY);
      assertDeclaredLength(ctx, options.limitBytes);
      const text = decode(await readLimited(ctx.req, options.limitBytes));
      ctx.state.body = text.trim() === '' && options.optional === true ? {} : parseObject(text);
    }
    await next();
  };
}

/** RFC 9110 §6.4.1: a request has content only when it says so with Content-Length or Transfer-Encoding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function assertJsonMediaType(ctx: HttpContext, message: string): void {
  const [type = '', ...params] = ctx.get('Content-Type').split(';').map((part) => part.trim().toLowerCase());
  const charset = params.find((param) => param.startsWith('charset='));
  const charsetOk = charset === undefined || ['charset=utf-8', 'charset="utf-8"'].includes(charset);
  const encoding = ctx.get('Content-Encoding').toLowerCase();
  if (type !== 'application/json' || !charsetOk || (encoding !== '' && encoding !== 'identity')) {
    // The body is never read; closing the connection keeps Node from draining it (it may be huge).
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', message, { Connection: 'close' });
  }
}

export function assertDeclaredLength(ctx: HttpContext, limit: number): void {
  const declared = ctx.req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
}

function tooLarge(): HttpError {
  // The rest of the body is never read; closing the connection keeps it from being parsed as the next request.
  return new HttpError('PAYLOAD_TOO_LARGE', 'The request body is too large.', { Connection: 'close' });
}

/** Collects the body but gives up (and stops reading) as soon as it passes `limit`, declared length or not. */
export function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | null): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) {
        req.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(null);
    const onError = (): void => finish(new HttpError('BAD_REQUEST', 'The request body could not be read.'));
    const onClose = (): void => finish(new HttpError('BAD_REQUEST', 'The request was aborted.'));
    // Gone before its body was asked for (a client that hung up while a rate limit or a token check was awaited):
    // the request was destroyed and its 'close' has already fired, so no listener below would ever be called.
    if (req.destroyed) {
      onClose();
      return;
    }
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The body as UTF-8 text; bytes that are not UTF-8 are `invalid` (the JSON reader's: MALFORMED_JSON). */
export function decode(bytes: Buffer, invalid: () => Error = malformed): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid();
  }
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw Errors.validation('body', 'must be a JSON object');
  }
  assertShallowAndPlain(value);
  assertNoDuplicateKeys(text);
  return value as Record<string, unknown>;
}

function malformed(): HttpError {
  return new HttpError('MALFORMED_JSON', 'The request body is not valid JSON.');
}

/**
 * Walks the parsed document with an explicit stack (no recursion, so no stack overflow on hostile input):
 * rejects nesting deeper than MAX_JSON_DEPTH and `__proto__` keys, which would re-prototype DTO instances.
 */
function assertShallowAndPlain(root: object): void {
  const stack: Array<{ value: object; depth: number }> = [{ value: root, depth: 1 }];
  let values = 0;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.depth > MAX_JSON_DEPTH) {
      throw Errors.validation('body', `must not be nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    // Counted before the members are walked: no body of this API holds more than a few dozen values, and a wide one
    // (an array of thousands of `{}` in one field) cost the walks after this one, and the validator's error per
    // unknown key, time on the event loop in proportion (a review of stop 65: 1 MiB, 0.5-0.9 s and some 70 MB).
    values += Array.isArray(item.value) ? item.value.length : Object.keys(item.value).length;
    if (values > MAX_JSON_VALUES) throw Errors.validation('body', `must not hold more than ${MAX_JSON_VALUES} values`);
    for (const [key, child] of Object.entries(item.value)) {
      if (key === '__proto__') throw Errors.validation('body', 'must not contain the key __proto__');
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: item.depth + 1 });
    }
  }
}
