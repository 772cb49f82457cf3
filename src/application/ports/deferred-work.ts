/**
 * Work that follows an answer. `defer` starts `task` once the caller's answer is on its way (after the current
 * chain of promises, so the response is written first) and returns at once; nobody in the request awaits it. A
 * task that fails is logged (with `what`), never reported to the caller, and tried again (with backoff, for a few
 * minutes): a task must therefore be safe to run again after a failed run, e.g. one unit of work, which commits
 * nothing when it fails. The composition root waits for what is still running before it closes the database.
 * For an answer that must not wait for, and so must not reveal, the work behind it: a failed login's bookkeeping
 * differs between an existing account and an unknown one, the answer must not.
 */
export interface DeferredWork {
  defer(what: string, task: () => Promise<void>): void;
}
