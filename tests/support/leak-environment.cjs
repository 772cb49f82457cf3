/**
 * An opt-in jest environment that names the suite leaving something open: after each suite's teardown (and 300 ms
 * more for closes under way) it lists the handles that are new since the suite began and still keep the process
 * alive (sockets, servers, child processes, pending timers that are not unref'd), with the stack that opened each
 * socket or started each timer; and it reports every socket, pipe, child process or worker thread opened while no suite runs (by something
 * a suite left behind: a timer, a retry, a listener). Not part of `npm test` (the stacks cost time); used when jest
 * says "A worker process has failed to exit gracefully" or "Jest did not exit", which name no suite:
 *
 *   LEAKS_LOG=/tmp/leaks.log npx jest --testEnvironment ./tests/support/leak-environment.cjs [suites]
 *
 * One line per finding in LEAKS_LOG (default: stderr). Stop 55 found three leaks this way: the cache invalidation
 * link's subscriber and an AMQP connection, each left open by a close that raced its connect, and a test's socket.
 * A leak that depends on timing shows in some runs only: run a suite several times.
 *
 * LEAKS_END=1 also logs, for each worker, what it holds when jest asks it to end and how long it takes to exit. Stop
 * 56, on a machine where every run printed jest's warning: all three workers exited 2-3 ms after the ask, so the
 * warning came from jest's parent process (its 500-ms force-exit timer), not from anything a suite left.
 */
const { createHook } = require('node:async_hooks');
const { appendFileSync } = require('node:fs');
const { TestEnvironment } = require('jest-environment-node');

const openedAt = new WeakMap();
/** The suite of this worker running now (between its setup and the end of its teardown), and the last one that ended. */
let running = null;
let lastEnded = null;

function report(line) {
  if (process.env.LEAKS_LOG) appendFileSync(process.env.LEAKS_LOG, line);
  else process.stderr.write(`[leak] ${line}`);
}

/** The timers the running suite started (Node lists no timers among its handles: they are tracked here). */
const timers = new Set();
/** Timers started while no suite ran, with the suite that ended last before each. */
const between = new Map();

/**
 * When jest ends the worker it only stops listening for messages and waits for the process to exit by itself, and
 * after 500 ms it says "A worker process has failed to exit gracefully" and kills it. What still keeps the process
 * alive 200 ms after that moment is listed here: handles and pending timers, whoever started them, with their stacks.
 */
process.on('removeListener', (event) => {
  if (event !== 'message') return;
  const endAt = Date.now();
  if (process.env.LEAKS_END) {
    const handles = process._getActiveHandles().filter(keepsAlive).map(describe);
    report(`${process.pid} end asked (${lastEnded ?? 'no suite'} last): ${handles.join(' | ')} [${process.getActiveResourcesInfo().join(',')}]\n`);
    process.on('exit', () => report(`${process.pid} exited ${Date.now() - endAt} ms after the end was asked\n`));
  }
  setTimeout(() => {
    const alive = process._getActiveHandles().filter(keepsAlive).map(describe);
    for (const [timer, after] of between) {
      if (!timer._destroyed && timer.hasRef()) alive.push(`${describe(timer)} started after ${after} ended, at ${openedAt.get(timer) ?? '?'}`);
    }
    if (alive.length > 0) report(`${process.pid} at the worker's end (${lastEnded ?? 'no suite'} last): ${alive.join(' | ')} [${process.getActiveResourcesInfo().join(',')}]\n`);
  }, 200).unref();
});

function stackHere() {
  const stack = (new Error().stack ?? '').split('\n').slice(2).filter((line) => !line.includes('node:') && !line.includes('leak-environment'));
  return stack.slice(0, 12).map((line) => line.trim()).join(' <- ');
}

createHook({
  init(_id, type, _trigger, resource) {
    if (type === 'Timeout') {
      openedAt.set(resource, stackHere());
      if (running === null) {
        // Started while no suite runs (a retry or backoff a suite's leftovers scheduled): listed when the worker ends.
        if (lastEnded !== null) between.set(resource, lastEnded);
        return;
      }
      timers.add(resource);
      return;
    }
    if (type !== 'TCPWRAP' && type !== 'PIPEWRAP' && type !== 'PROCESSWRAP' && type !== 'WORKER') return;
    const where = stackHere();
    openedAt.set(resource, where);
    // Opened while no suite runs: something a suite left behind (a timer, a retry, a listener) acting after its end.
    if (running === null && lastEnded !== null) report(`${process.pid} after ${lastEnded} ended: ${type} opened at ${where}\n`);
  },
}).enable();

function keepsAlive(handle) {
  try {
    if (typeof handle.hasRef === 'function') return handle.hasRef();
    if (handle._handle && typeof handle._handle.hasRef === 'function') return handle._handle.hasRef();
  } catch {
    // Unknown kind: listed.
  }
  return true;
}

function describe(handle) {
  const kind = handle?.constructor?.name ?? typeof handle;
  try {
    if (kind === 'Socket' || kind === 'Server') {
      const ends = `${handle.localPort ?? ''}->${handle.remoteAddress ?? ''}:${handle.remotePort ?? ''}`;
      return `${kind} ${ends} opened at ${openedAt.get(handle._handle) ?? '?'}`;
    }
    if (kind === 'Timeout') return `Timeout ${handle._idleTimeout} ms: ${String(handle._onTimeout).slice(0, 120).replace(/\s+/g, ' ')}`;
    if (kind === 'ChildProcess') return `ChildProcess ${handle.pid} ${handle.spawnfile}`;
  } catch {
    // Described by its kind only.
  }
  return kind;
}

class LeakEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.suite = context.testPath;
    this.before = new Set();
  }

  async setup() {
    running = this.suite;
    this.before = new Set(process._getActiveHandles());
    await super.setup();
  }

  async teardown() {
    await super.teardown();
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = null;
    lastEnded = this.suite;
    const left = process._getActiveHandles().filter((handle) => !this.before.has(handle) && keepsAlive(handle)).map(describe);
    // Timers it started that are still pending and keep the process alive.
    for (const timer of timers) {
      if (!timer._destroyed && timer.hasRef()) left.push(`${describe(timer)} started at ${openedAt.get(timer) ?? '?'}`);
    }
    timers.clear();
    if (left.length === 0) return;
    report(`${process.pid} ${this.suite}: ${left.join(' | ')}\n`);
  }
}

module.exports = LeakEnvironment;
