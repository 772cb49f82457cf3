import type { ServerResponse } from 'node:http';

/**
 * Aborted when the connection closes before the response is finished: the client is gone and nothing can be
 * answered. Use cases hand it to the password hasher, which skips a queued hash nobody waits for any more (an
 * outside review: logins fired and dropped at once kept the hashing queue full of them).
 */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
