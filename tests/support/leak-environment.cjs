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

function stackHere() {
  const stack = (new Error().stack ?? '').split('\n').slice(2).filter((line) => !line.includes('node:') && !line.includes('leak-environment'));
  return stack.slice(0, 12).map((line) => line.trim()).join(' <- ');
}

createHook({
  init(_id, type, _trigger, resource) {
    if (type === 'Timeout') {
      if (running === null) return;
      timers.add(resource);
      openedAt.set(resource, stackHere());
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
