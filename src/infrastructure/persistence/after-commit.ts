import type { AfterCommit } from '@application/ports/unit-of-work';

/** The background workers a committed write may have given work; absent ones find it at their next poll. */
export interface WakeTargets {
  /** Events were written to the outbox: publish them now. */
  relay?: AfterCommit;
  /** Only routine events were written (relay-urgency.ts): publish them within the relay's batch delay. */
  relaySoon?: AfterCommit;
  /** An email was queued. */
  emailSender?: AfterCommit;
  /** An account request was recorded. */
  accountRequests?: AfterCommit;
}

/** One transaction's after-commit list, with the semantics of `Repositories.afterCommit`. */
export class AfterCommitList {
  private readonly callbacks: AfterCommit[] = [];

  readonly add = (fn: AfterCommit): void => {
    if (!this.callbacks.includes(fn)) this.callbacks.push(fn);
  };

  /** Every callback in order, each awaited; then the first error, if any. */
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.callbacks) {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

interface OpenTransaction {
  list: AfterCommitList;
  wake: WakeTargets;
}

// By the handle the writers are given (a transaction's EntityManager, the in-memory database): the outbox writer
// is built by the user and session repositories from that handle alone.
const open = new WeakMap<object, OpenTransaction>();

/** The unit of work: from now until closeTransaction, writes through `handle` register on `list`. */
export function openTransaction(handle: object, list: AfterCommitList, wake: WakeTargets): void {
  open.set(handle, { list, wake });
}

export function closeTransaction(handle: object): void {
  open.delete(handle);
}

/**
 * A writer: wake `target` once the transaction writing through `handle` has committed. Outside a unit of work
 * (single statements, tests) there is nothing to wait for and nobody is woken: the worker's poll finds the row.
 */
export function wakeAfterCommit(handle: object, target: keyof WakeTargets): void {
  const transaction = open.get(handle);
  const fn = transaction?.wake[target];
  if (transaction && fn) transaction.list.add(fn);
}
