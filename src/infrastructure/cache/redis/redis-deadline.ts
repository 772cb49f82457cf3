/** Methods that open, close or observe the connection: never under a command deadline. */
const LIFECYCLE = new Set(['connect', 'close', 'destroy', 'quit', 'disconnect', 'duplicate', 'on', 'once', 'off', 'addListener', 'removeListener', 'emit']);

export class RedisStallError extends Error {
  constructor(ms: number) {
    super(`redis: no answer within ${ms} ms`);
    this.name = 'RedisStallError';
  }
}

/**
 * Every command on `target` answers, or fails, within `ms`. node-redis's own command timeout ends once the command
 * is written to the socket, so a link that stalled after that (packets dropped, nothing reset) used to hold the
 * caller, and a transaction waiting on a cache write, for as long as the stall lasted. On expiry the command
 * fails with RedisStallError and `stalled` is called. A timer that fires late because the event loop was busy
 * gives the reply one more turn of the loop (setImmediate runs after pending I/O) before it counts as a stall.
 * A MULTI builder is wrapped too, so that its `exec` has the deadline.
 */
export function withCommandDeadline<T extends object>(target: T, ms: number, hooks: { stalled(): void; closing?(): void }): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property === 'string' && LIFECYCLE.has(property)) {
        if (property !== 'close' && property !== 'destroy' && property !== 'quit' && property !== 'disconnect') return method.bind(object);
        return (...args: unknown[]) => {
          hooks.closing?.();
          const result = method.apply(object, args);
          if (property === 'destroy' || !isPromiseLike(result)) return result;
          // A graceful close waits for every reply still due, which a dead server never sends (a Sentinel
          // client's after a failover was seen waiting for good): after `ms`, the connection is destroyed.
          return boundedClose(result, ms, () => (object as { destroy(): unknown }).destroy());
        };
      }
      return (...args: unknown[]) => {
        const result = method.apply(object, args);
        if (isPromiseLike(result)) return deadline(result, ms, hooks.stalled);
        // A builder's chained calls return the builder: the wrapped one, so that its `exec` keeps the deadline.
        if (result === object) return receiver as unknown;
        if (isMulti(result)) return withCommandDeadline(result, ms, hooks);
        return result;
      };
    },
  });
}

function boundedClose(closing: PromiseLike<unknown>, ms: number, destroy: () => unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        destroy();
      } catch {
        // Already closed.
      }
      resolve(undefined);
    }, ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve(undefined);
    };
    closing.then(done, done);
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function isMulti(value: unknown): value is object {
  return typeof value === 'object' && value !== null && typeof (value as { exec?: unknown }).exec === 'function';
}

function deadline<T>(promise: PromiseLike<T>, ms: number, stalled: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          stalled();
          reject(new RedisStallError(ms));
        }),
      ms,
    );
    timer.unref();
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
