import { EventEmitter } from 'node:events';
import { createRevocationFeed } from '../../../src/sdk';

/**
 * The feed's use of amqplib, against a fake one (the real broker, and a link cut or stalled on the way to it:
 * tests/e2e/sdk-revocation-feed.test.ts): the URL it connects with, what counts as a resumption, and close() when the
 * broker never answers (stop 49).
 */
const connect = jest.fn();
jest.mock('amqplib', () => ({ connect: (...args: unknown[]) => connect(...args) }));

/** A connection that subscribes at once; its close() never answers when `silent` (a link that carries nothing). */
function fakeModel(options: { silent?: boolean } = {}) {
  const channel = Object.assign(new EventEmitter(), {
    prefetch: async () => undefined,
    assertExchange: async () => undefined,
    assertQueue: async () => ({ queue: 'q' }),
    bindQueue: async () => undefined,
    consume: async () => undefined,
    ack: () => undefined,
  });
  const stream = { destroy: jest.fn((_error?: Error) => undefined) };
  const model = Object.assign(new EventEmitter(), {
    connection: { stream },
    createChannel: async () => channel,
    close: jest.fn(() => (options.silent ? new Promise<void>(() => undefined) : Promise.resolve())),
  });
  return { model, stream };
}

const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), { code: 'ECONNREFUSED' }));

beforeEach(() => connect.mockReset());

describe('createRevocationFeed: the connection (a fake amqplib)', () => {
  it.each([
    ['amqp://u:p@rabbit:5672', {}, 'amqp://u:p@rabbit:5672?heartbeat=5'],
    ['amqp://u:p@rabbit:5672/%2F?frameMax=8192', {}, 'amqp://u:p@rabbit:5672/%2F?frameMax=8192&heartbeat=5'],
    ['amqp://u:p@rabbit:5672', { heartbeatSeconds: 2 }, 'amqp://u:p@rabbit:5672?heartbeat=2'],
    ['amqp://u:p@rabbit:5672?heartbeat=30', { heartbeatSeconds: 2 }, 'amqp://u:p@rabbit:5672?heartbeat=30'],
  ])('asks the broker for a short heartbeat: %s %j connects to %s', async (url, extra, expected) => {
    const { model } = fakeModel();
    connect.mockResolvedValueOnce(model);
    const feed = createRevocationFeed({ url, ...extra });
    await feed.ready();
    expect(connect).toHaveBeenCalledWith(expected, { timeout: 5000 });
    await feed.close();
  });

  it('refuses a heartbeat that is not a positive whole number of seconds', () => {
    for (const heartbeatSeconds of [0, -1, 1.5, Number.NaN]) {
      expect(() => createRevocationFeed({ url: 'amqp://rabbit', heartbeatSeconds })).toThrow(TypeError);
    }
    expect(connect).not.toHaveBeenCalled();
  });

  it('a first subscription at the first attempt is no outage (resumedAt 0); one after a failed attempt is a resumption', async () => {
    const clock = { ms: 1_000_000 };
    connect.mockResolvedValueOnce(fakeModel().model);
    const atOnce = createRevocationFeed({ url: 'amqp://rabbit', now: () => clock.ms });
    await atOnce.ready();
    expect(atOnce.resumedAt).toBe(0);
    await atOnce.close();

    connect.mockImplementationOnce(refused).mockImplementationOnce(refused).mockResolvedValueOnce(fakeModel().model);
    const late = createRevocationFeed({ url: 'amqp://rabbit', now: () => clock.ms, reconnect: { baseDelayMs: 1, maxDelayMs: 1 } });
    expect(late.resumedAt).toBeNull();
    await late.ready();
    expect(connect).toHaveBeenCalledTimes(4);
    // Events published before this were missed: the verifier checks the tokens issued before it online.
    expect(late.resumedAt).toBe(clock.ms);
    await late.close();
  });

  it('close() resolves within its deadline when the broker never answers, and destroys the socket', async () => {
    const { model, stream } = fakeModel({ silent: true });
    connect.mockResolvedValueOnce(model);
    const feed = createRevocationFeed({ url: 'amqp://rabbit' });
    await feed.ready();
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([feed.close().then(() => 'closed'), new Promise((resolve) => (timer = setTimeout(() => resolve('still closing'), 4000)))]);
    clearTimeout(timer);
    expect(outcome).toBe('closed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(model.close).toHaveBeenCalledTimes(1);
    expect(stream.destroy).toHaveBeenCalledTimes(1);
    expect(stream.destroy.mock.calls[0]![0]).toBeInstanceOf(Error); // so amqplib hears of it and stops its heartbeat
    expect(feed.healthy).toBe(false);
  });

  it('says plainly when a named queue is held by another connection (405), and keeps retrying (a review of stop 60)', async () => {
    const { model } = fakeModel();
    const channel = await model.createChannel();
    Object.assign(channel, { assertQueue: () => Promise.reject(Object.assign(new Error('Channel closed by server: 405 (RESOURCE-LOCKED)'), { code: 405 })) });
    const second = fakeModel();
    connect.mockResolvedValueOnce(model).mockResolvedValueOnce(second.model);
    const warnings: string[] = [];
    const feed = createRevocationFeed({ url: 'amqp://rabbit', queue: 'orders-revocations', logger: { info: () => undefined, warn: (m: string) => void warnings.push(m) }, reconnect: { baseDelayMs: 1, maxDelayMs: 1 } });
    await feed.ready();
    expect(warnings[0]).toMatch(/the queue orders-revocations is held by another connection \(exclusive: every process needs a name of its own/);
    expect(connect).toHaveBeenCalledTimes(2);
    await feed.close();
  });
});
