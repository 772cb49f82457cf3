import type { EventPublisher } from '@application/ports/event-publisher';
import { OutboxRelay } from '@infrastructure/messaging/outbox-relay';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryOutboxStore } from '@infrastructure/persistence/memory/in-memory-outbox-store';
import { ManualClock } from '@infrastructure/time/system-clock';
import { RecordingLogger, eventually } from '../../../support/events';

/**
 * A broker connection that completes the handshake and drops at once reconnects again and again, and each
 * reconnect wakes the relay: until a review of stop 52 every wake ran a round (15 claim transactions in 6 s against
 * a backoff of 8 s). A wake within max(minBackoffMs, 1 s) of the last one honoured is now ignored.
 */
describe('OutboxRelay.wake() spacing', () => {
  it('a reconnect storm (a wake every 400 ms for 6 s) runs one round, and a wake after minBackoffMs runs again', async () => {
    const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
    let rounds = 0;
    // Every round asks isAvailable() first (the first round's lag log asks too): the broker is gone again by the time
    // each woken round looks.
    const broker: EventPublisher = {
      isAvailable: () => ((rounds += 1), false),
      publish: async () => ({ confirmed: [], failed: [] }),
    };
    const relay = new OutboxRelay(new InMemoryOutboxStore(new InMemoryDatabase()), broker, clock, new RecordingLogger(), {
      pollIntervalMs: 60_000, minBackoffMs: 8000, maxBackoffMs: 8000,
    });
    relay.start();
    await eventually(() => rounds >= 1, 2000, 'the first round (backing off 8 s)');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const first = rounds;
    for (let i = 0; i < 15; i += 1) {
      relay.wake();
      await new Promise((resolve) => setTimeout(resolve, 20));
      clock.advance(0.4);
    }
    expect(rounds - first).toBe(1); // the first wake only
    clock.advance(8);
    relay.wake();
    await eventually(() => rounds - first === 2, 2000, 'a wake after minBackoffMs');
    await relay.stop();
  });
});
