import { getEventListeners } from 'node:events';
import { DomainError } from '@domain/shared/domain-error';
import { Argon2PasswordHasher, Gate, HASHING_BUSY_RETRY_AFTER_SECONDS } from '@infrastructure/security/argon2/argon2-password-hasher';
import { FAST_ARGON2_PARAMS } from '../../../support/kit';

const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A job that starts (logged, counted) and ends only when `finish` is called. */
function fakeJobs() {
  const log: string[] = [];
  const running = { now: 0, max: 0 };
  const finishers = new Map<string, () => void>();
  const job = (name: string) => async () => {
    running.now += 1;
    running.max = Math.max(running.max, running.now);
    log.push(name);
    await new Promise<void>((resolve) => finishers.set(name, resolve));
    running.now -= 1;
    return name;
  };
  const finish = async (name: string) => {
    const done = finishers.get(name);
    if (!done) throw new Error(`${name} has not started`);
    done();
    await flush();
  };
  return { log, running, job, finish };
}

/** The settled state of a promise, without waiting for it. */
function track<T>(promise: Promise<T>) {
  const state: { status: 'pending' | 'fulfilled' | 'rejected'; value?: T; error?: unknown } = { status: 'pending' };
  promise.then(
    (value) => Object.assign(state, { status: 'fulfilled', value }),
    (error: unknown) => Object.assign(state, { status: 'rejected', error }),
  );
  return state;
}

function expectBusy(error: unknown) {
  expect(error).toBeInstanceOf(DomainError);
  expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: HASHING_BUSY_RETRY_AFTER_SECONDS });
}

/**
 * The argon2 gate's bounds (an outside review, 2026-11-30): a waiter is refused when its deadline passes (by its
 * own timer, at once) or when the queue is full, its job never run; refusals hold no slot and leave no timer.
 * Fake jobs finished by hand, and Jest's fake clock (setImmediate stays real, to let promises settle).
 */
describe('the argon2 gate: bounded wait', () => {
  const DEADLINE_MS = 100;

  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('refuses a waiter when its deadline passes, at once and while the slot is still held, without running its job', async () => {
    const gate = new Gate(1, { maxWaitMs: DEADLINE_MS, maxWaiting: 10 });
    const { log, job, finish } = fakeJobs();
    const a = track(gate.run(job('a')));
    const b = track(gate.run(job('b')));
    await flush();
    jest.advanceTimersByTime(DEADLINE_MS - 1);
    await flush();
    expect(b.status).toBe('pending');
    jest.advanceTimersByTime(1);
    await flush();
    expect(b.status).toBe('rejected');
    expectBusy(b.error);
    expect(a.status).toBe('pending'); // refused while `a` still ran: not when its turn came
    expect(gate.queued).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    await finish('a');
    expect(a).toMatchObject({ status: 'fulfilled', value: 'a' });
    expect(log).toEqual(['a']); // b's job never ran
    expect(gate.refused).toEqual({ queue_timeout: 1, queue_full: 0, client_gone: 0 });
  });

  it('refuses at once, without a timer or the job, a caller that finds the queue full', async () => {
    const gate = new Gate(2, { maxWaitMs: DEADLINE_MS, maxWaiting: 3 });
    const { log, job } = fakeJobs();
    const admitted = ['a', 'b', 'c', 'd', 'e'].map((name) => track(gate.run(job(name))));
    const refused = track(gate.run(job('f')));
    await flush();
    expect(refused.status).toBe('rejected');
    expectBusy(refused.error);
    expect(admitted.map((s) => s.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(log).toEqual(['a', 'b']);
    expect(gate.queued).toBe(3);
    expect(jest.getTimerCount()).toBe(3); // one per waiter, none for the refused caller
    expect(gate.refused).toEqual({ queue_timeout: 0, queue_full: 1, client_gone: 0 });
  });

  it('keeps arrival order when a waiter in the middle of the queue leaves by its deadline', async () => {
    const gate = new Gate(1, { maxWaitMs: DEADLINE_MS, maxWaiting: 10 });
    const { log, job, finish } = fakeJobs();
    const a = track(gate.run(job('a')));
    const b = track(gate.run(job('b')));
    jest.advanceTimersByTime(40);
    const c = track(gate.run(job('c')));
    jest.advanceTimersByTime(40);
    const d = track(gate.run(job('d')));
    jest.advanceTimersByTime(20); // b's deadline: 100 ms after it came; c and d still have time
    await flush();
    expect([b.status, c.status, d.status]).toEqual(['rejected', 'pending', 'pending']);
    await finish('a');
    expect(log).toEqual(['a', 'c']);
    await finish('c');
    expect(log).toEqual(['a', 'c', 'd']);
    await finish('d');
    expect([a.status, c.status, d.status]).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    // An admitted waiter's timer goes with its admission.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('leaks no slot through a storm of refusals: `limit` jobs still run at once afterwards, and no more', async () => {
    const limit = 2;
    const gate = new Gate(limit, { maxWaitMs: DEADLINE_MS, maxWaiting: 4 });
    const { log, running, job, finish } = fakeJobs();
    const held = ['h0', 'h1'].map((name) => track(gate.run(job(name))));
    const storm = Array.from({ length: 40 }, (_, i) => track(gate.run(job(`s${i}`))));
    await flush();
    expect(storm.filter((s) => s.status === 'rejected')).toHaveLength(36); // the queue was full
    jest.advanceTimersByTime(DEADLINE_MS);
    await flush();
    expect(storm.every((s) => s.status === 'rejected')).toBe(true); // the other four by their deadline
    for (const s of storm) expectBusy(s.error);
    expect(jest.getTimerCount()).toBe(0);
    expect(log).toEqual(['h0', 'h1']);
    await finish('h0');
    await finish('h1');
    expect(held.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);

    running.max = 0;
    const after = ['n0', 'n1', 'n2', 'n3'].map((name) => track(gate.run(job(name))));
    await flush();
    expect(log.slice(2)).toEqual(['n0', 'n1']); // both slots free again
    expect(gate.queued).toBe(2);
    for (const name of ['n0', 'n1', 'n2', 'n3']) await finish(name);
    expect(after.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(running.max).toBe(limit);
    expect(jest.getTimerCount()).toBe(0);
  });

  it("the hasher's verify propagates the refusal (503), never a wrong password, and a refused dummy hash is not kept", async () => {
    const hasher = new Argon2PasswordHasher({ ...FAST_ARGON2_PARAMS, concurrency: 1, queueTimeoutMs: DEADLINE_MS });
    const hash = await hasher.hash('a password');
    let release!: () => void;
    const holder = hasher.gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    const verify = track(hasher.verify(hash, 'a password'));
    const dummy = track(hasher.verifyDummy('whatever'));
    await flush();
    jest.advanceTimersByTime(DEADLINE_MS);
    await flush();
    expect(verify.status).toBe('rejected');
    expectBusy(verify.error);
    expect(dummy.status).toBe('rejected');
    expectBusy(dummy.error);
    release();
    await holder;
    // The gate free again: the same calls answer, the dummy hash made afresh.
    await expect(hasher.verify(hash, 'a password')).resolves.toBe(true);
    await expect(hasher.verifyDummy('whatever')).resolves.toBeUndefined();
  });
});

/**
 * Callers that leave (an outside review: logins fired and dropped at once filled the queue with hashes nobody
 * waited for, delaying real users): a waiter whose AbortSignal aborts leaves the queue at that moment, refused as
 * by a deadline, its job never run; a job already running finishes.
 */
describe('the argon2 gate: callers that leave', () => {
  const DEADLINE_MS = 100;

  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('a waiter whose caller leaves is refused at once, long before its deadline, and its job never runs', async () => {
    const gate = new Gate(1, { maxWaitMs: DEADLINE_MS, maxWaiting: 10 });
    const { log, job, finish } = fakeJobs();
    const gone = new AbortController();
    const a = track(gate.run(job('a')));
    const b = track(gate.run(job('b'), gone.signal));
    const c = track(gate.run(job('c'), new AbortController().signal));
    await flush();
    expect(gate.queued).toBe(2);
    gone.abort();
    await flush();
    expect(b.status).toBe('rejected');
    expectBusy(b.error);
    expect(gate.queued).toBe(1); // its place freed at once, while `a` still runs
    expect(getEventListeners(gone.signal, 'abort')).toHaveLength(0);
    expect(jest.getTimerCount()).toBe(1); // c's deadline only
    await finish('a');
    expect(log).toEqual(['a', 'c']); // the slot passed over b to c
    // An admitted waiter keeps no listener on its signal, and no timer.
    expect(jest.getTimerCount()).toBe(0);
    await finish('c');
    expect([a.status, c.status]).toEqual(['fulfilled', 'fulfilled']);
    expect(gate.refused).toEqual({ queue_timeout: 0, queue_full: 0, client_gone: 1 });
  });

  it('a caller already gone is refused even with a slot free, and takes none', async () => {
    const gate = new Gate(1, { maxWaitMs: DEADLINE_MS, maxWaiting: 10 });
    const { log, job, finish } = fakeJobs();
    const gone = new AbortController();
    gone.abort();
    const refused = track(gate.run(job('a'), gone.signal));
    await flush();
    expect(refused.status).toBe('rejected');
    expectBusy(refused.error);
    expect(jest.getTimerCount()).toBe(0);
    const next = track(gate.run(job('b')));
    await flush();
    expect(log).toEqual(['b']); // the slot was still free
    await finish('b');
    expect(next.status).toBe('fulfilled');
    expect(gate.refused.client_gone).toBe(1);
  });

  it('a job already running finishes when its caller leaves; a waiter refused by its deadline drops its listener', async () => {
    const gate = new Gate(1, { maxWaitMs: DEADLINE_MS, maxWaiting: 10 });
    const { log, job, finish } = fakeJobs();
    const first = new AbortController();
    const second = new AbortController();
    const a = track(gate.run(job('a'), first.signal));
    const b = track(gate.run(job('b'), second.signal));
    await flush();
    first.abort();
    jest.advanceTimersByTime(DEADLINE_MS);
    await flush();
    expect(b.status).toBe('rejected');
    expect(getEventListeners(second.signal, 'abort')).toHaveLength(0);
    second.abort(); // after its refusal: nothing more happens
    await finish('a');
    expect(a).toMatchObject({ status: 'fulfilled', value: 'a' });
    expect(log).toEqual(['a']);
    expect(gate.refused).toEqual({ queue_timeout: 1, queue_full: 0, client_gone: 0 });
  });

  it("the hasher skips a gone caller's verify; one caller leaving does not refuse another waiting for the shared dummy hash", async () => {
    const hasher = new Argon2PasswordHasher({ ...FAST_ARGON2_PARAMS, concurrency: 1, queueTimeoutMs: 60_000 });
    const hash = await hasher.hash('a password');
    let release!: () => void;
    const holder = hasher.gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    const left = new AbortController();
    const verify = track(hasher.verify(hash, 'a password', left.signal));
    const dummyLeft = track(hasher.verifyDummy('whatever', left.signal));
    const dummyStays = hasher.verifyDummy('whatever', new AbortController().signal);
    await flush();
    expect(hasher.gate.queued).toBe(2); // the verify and the dummy hash (made once, for both)
    left.abort();
    await flush();
    expect(verify.status).toBe('rejected');
    expectBusy(verify.error);
    expect(hasher.gate.queued).toBe(1); // the dummy hash stays: the other caller still waits for it
    release();
    await holder;
    await expect(dummyStays).resolves.toBeUndefined();
    expect(dummyLeft.status).toBe('rejected'); // its own verify skipped, once the shared hash was made
    expectBusy(dummyLeft.error);
    expect(hasher.gate.refused.client_gone).toBe(2);
  });
});
