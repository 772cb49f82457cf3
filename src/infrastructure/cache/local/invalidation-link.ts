/** Keys whose cached state changed: session ids and user ids. */
export interface InvalidatedKeys {
  sessions: readonly string[];
  users: readonly string[];
}

/**
 * How instances tell each other which keys to drop. `trusted()` is true only while every invalidation any
 * instance sends is known to arrive here; the link calls `reestablished` each time it becomes trusted again
 * (whatever was sent meanwhile may be lost) and `invalidate` for each other instance's announcement.
 */
export interface InvalidationLink {
  trusted(): boolean;
  /** Sends to every other instance; rejects when that could not be done. */
  publish(keys: InvalidatedKeys): Promise<void>;
  listen(handlers: { invalidate(keys: InvalidatedKeys): void; reestablished(): void }): void;
  close(): Promise<void>;
}

/** One process is the only instance (embedded mode): nothing to tell anyone, always trusted. */
export class InProcessInvalidationLink implements InvalidationLink {
  trusted(): boolean {
    return true;
  }
  async publish(): Promise<void> {}
  listen(): void {}
  async close(): Promise<void> {}
}

/**
 * Other instances may change the database and cannot reach this one (a shared PostgreSQL without Redis): a local
 * cache would hide their changes, so it is never trusted and the validate path always reads the database.
 */
export class UnreachableInvalidationLink implements InvalidationLink {
  trusted(): boolean {
    return false;
  }
  async publish(): Promise<void> {}
  listen(): void {}
  async close(): Promise<void> {}
}
