/** The revocation feed's link to RabbitMQ: amqplib loaded on first use, the heartbeat asked for, a bounded close. */
import type { ChannelModel } from 'amqplib';

export type AmqpConnect = (url: string, socketOptions?: { timeout?: number }) => Promise<ChannelModel>;

/** How long close() waits for the broker's answer before dropping the connection. */
export const CLOSE_DEADLINE_MS = 2000;

/** amqplib is not installed (an optional peer dependency): the feed fails rather than retry. */
export class MissingPeerError extends Error {}

/**
 * amqplib's close(), which waits for the broker's close-ok: on a link that carries nothing it never comes. After
 * CLOSE_DEADLINE_MS the socket is destroyed instead (amqplib then reports the connection closed). Never rejects.
 */
export async function closeWithin(model: ChannelModel): Promise<void> {
  // The destroy below makes amqplib emit 'error': never unheard (a connection closed right after it was made has no
  // listener of the feed's yet, and an unheard 'error' would end the process).
  model.on('error', () => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), CLOSE_DEADLINE_MS);
    timer.unref?.();
  });
  const closing = model.close().then(
    () => 'closed' as const,
    () => 'closed' as const,
  );
  try {
    if ((await Promise.race([closing, deadline])) === 'late') {
      // With an error: amqplib hears of it ('error' on the socket), stops its heartbeat timer and reports the close.
      (model.connection as unknown as { stream?: { destroy?(error?: Error): void } } | undefined)?.stream?.destroy?.(new Error('no answer to close within the deadline'));
    }
  } finally {
    clearTimeout(timer);
  }
}

/** `url` asking for a heartbeat of `seconds`, unless it asks for one itself (amqplib reads it from the query). */
export function withHeartbeat(url: string, seconds: number): string {
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  const question = base.indexOf('?');
  if (question !== -1 && new URLSearchParams(base.slice(question + 1)).has('heartbeat')) return url;
  const separator = question === -1 ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}heartbeat=${seconds}${fragment}`;
}

/** The optional peer dependency, loaded on first use only. */
export async function loadAmqplib(): Promise<AmqpConnect> {
  let module: { connect?: unknown; default?: { connect?: unknown } };
  try {
    module = (await import('amqplib')) as typeof module;
  } catch {
    throw new MissingPeerError('createRevocationFeed needs the optional peer dependency amqplib: npm install amqplib');
  }
  const connect = module.connect ?? module.default?.connect;
  if (typeof connect !== 'function') throw new MissingPeerError('amqplib does not export connect()');
  return connect as AmqpConnect;
}
