import type { HttpContext } from './http-state';

export interface Meta {
  request_id: string;
  timestamp: string;
  version: 'v1';
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, string[]>;
}

export function meta(ctx: HttpContext): Meta {
  return metaFor(ctx.state.requestId);
}

export function metaFor(requestId: string): Meta {
  return { request_id: requestId, timestamp: new Date().toISOString(), version: 'v1' };
}

/** Writes the success envelope (CONTRACT §1). */
export function respond(ctx: HttpContext, status: number, data: object): void {
  ctx.status = status;
  ctx.body = { success: true, data, meta: meta(ctx) };
}

/**
 * The success envelope as JSON around data already serialized: the text `JSON.stringify({ success: true, data,
 * meta })` gives, for a caller that keeps the data's JSON (the bearer lane's renderings).
 */
export function successJson(dataJson: string, requestId: string): string {
  return `{"success":true,"data":${dataJson},"meta":${JSON.stringify(metaFor(requestId))}}`;
}

export function errorEnvelope(ctx: HttpContext, error: ErrorBody): object {
  return { success: false, error, meta: meta(ctx) };
}
