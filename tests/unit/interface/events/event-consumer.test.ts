import { randomBytes, randomUUID } from 'node:crypto';
import { SEALED } from '@application/ports/secret-box';
import { ProcessEventOnce } from '@application/shared/process-event-once';
import { SendSecurityNotice } from '@application/account/send-security-notice';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { Repositories } from '@application/ports/unit-of-work';
import { InProcessEventBus } from '@infrastructure/messaging/memory/in-process-event-bus';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryUnitOfWork } from '@infrastructure/persistence/memory/in-memory-unit-of-work';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ManualClock } from '@infrastructure/time/system-clock';
import { EventConsumer, OUTAGE_EXTRA_ATTEMPTS } from '@interface/events/event-consumer';
import { PermanentEventError, type EventSubscriber } from '@interface/events/event-subscriber';
import { SecurityNoticeSubscriber } from '@interface/events/security-notice.subscriber';
import { RecordingLogger, eventually } from '../../../support/events';
import { aVerifiedUser } from '../../../support/mothers';

const NOW = new Date('2026-03-01T12:00:00Z');

function event(type: string, data: IntegrationEvent['data'], id = randomUUID()): IntegrationEvent {
  return { specversion: '1.0', id, source: 'auth-service', type, subject: String(data.user_id ?? 'x'), time: NOW.toISOString(), datacontenttype: 'application/json', data };
}

async function setup(maxAttempts = 3) {
  const db = new InMemoryDatabase();
  const clock = new ManualClock(NOW);
  const secretBox = new AesGcmSecretBox(randomBytes(32));
  const uow = new InMemoryUnitOfWork(db, { secretBox, clock });
  const logger = new RecordingLogger();
  const bus = new InProcessEventBus(logger);
  const consumer = new EventConsumer(bus, new ProcessEventOnce(uow, clock), logger, { maxAttempts, retryBaseDelayMs: 1, retryMaxDelayMs: 4, prefetch: 2 });
  const user = aVerifiedUser({ email: 'owner@example.com', username: null, firstName: null, passwordHash: 'x', now: NOW });
  await uow.run((repos) => repos.users.add(user));
  const emails = () => [...db.tables.emails.values()];
  /** The queued emails as the owner reads them (bodies are sealed in the outbox). */
  const opened = () => emails().map((e) => ({ to: e.recipient, subject: e.subject, text: secretBox.open(e.sealedText!, SEALED.emailBody(e.id, 'text')) }));
  return { db, uow, bus, consumer, logger, user, emails, opened };
}

/** A subscriber that writes through the unit of work, then fails its first `failures` attempts. */
class Flaky implements EventSubscriber {
  readonly name = 'flaky';
  readonly patterns = ['auth.#'];
  calls = 0;
  constructor(private readonly failures: number, private readonly error = new Error('downstream unavailable')) {}
  async handle(_event: IntegrationEvent, repos: Repositories): Promise<void> {
    this.calls += 1;
    await repos.emails.enqueue({ to: 'ops@example.com', subject: `call ${this.calls}`, text: 't', html: 'h' });
    if (this.calls <= this.failures) throw this.error;
  }
}

describe('EventConsumer on the in-process bus', () => {
  it('security notices: a reuse detection and a lockout each queue one email to the account owner', async () => {
    const { bus, consumer, user, emails } = await setup();
    await consumer.start(new SecurityNoticeSubscriber(new SendSecurityNotice({ publicUrl: 'https://app.example.com' })));
    bus.start();
    await bus.publish([
      event('auth.session.refresh_reuse_detected', { user_id: user.id, session_id: randomUUID() }),
      event('auth.account.locked', { user_id: user.id, locked_until: '2026-03-01T12:15:00.000Z' }),
      event('auth.user.logged_in', { user_id: user.id, session_id: randomUUID(), amr: ['pwd'] }), // not bound
    ]);
    await bus.idle();
    expect(emails().map((e) => [e.recipient, e.subject]).sort()).toEqual([
      ['owner@example.com', 'Sign-in to your account is temporarily blocked'],
      ['owner@example.com', 'We signed out a session of your account'],
    ]);
  });

  /**
   * Found by an outside review: a second-step (MFA) lock was told as password guessing, yet only someone who knows
   * the password reaches the second step. `factor` tells the two apart; an event without it (queued before the field
   * existed) is a password lock, as every such event was.
   */
  it('security notices: a password lock says someone may be guessing; a second-factor lock says the password is known, reset it now', async () => {
    const { bus, consumer, user, opened } = await setup();
    await consumer.start(new SecurityNoticeSubscriber(new SendSecurityNotice({ publicUrl: 'https://app.example.com' })));
    bus.start();
    const locked = (factor?: string) => event('auth.account.locked', { user_id: user.id, locked_until: '2026-03-01T12:15:00.000Z', ...(factor ? { factor } : {}) });
    await bus.publish([locked('password')]);
    await bus.idle();
    await bus.publish([locked('second_factor')]);
    await bus.idle();
    await bus.publish([locked()]);
    await bus.idle();
    const [password, secondFactor, legacy] = opened();
    expect([password!.to, password!.subject]).toEqual(['owner@example.com', 'Sign-in to your account is temporarily blocked']);
    expect(password!.text).toBe(
      [
        'After several failed sign-in attempts on 2026-03-01 12:00 UTC, signing in to your account is blocked until 2026-03-01 12:15 UTC.',
        'If this was not you, someone may be guessing your password: once you can sign in again, choose a new, unique password. You can also reset it from the sign-in page at any time.',
        'Your account: https://app.example.com',
      ].join('\n\n') + '\n',
    );
    expect(legacy).toEqual(password);
    expect([secondFactor!.to, secondFactor!.subject]).toEqual(['owner@example.com', 'Sign-in blocked after your password was used with wrong two-factor codes']);
    expect(secondFactor!.text).toContain("your account's password was entered correctly, but the two-factor code asked for next was wrong several times");
    expect(secondFactor!.text).toContain('signing in to your account is blocked until 2026-03-01 12:15 UTC');
    expect(secondFactor!.text).toContain('If this was not you, someone else knows your password. Reset it now: choose "Forgot password" on the sign-in page');
    expect(secondFactor!.text).not.toMatch(/guessing/);
  });

  it('security notices: a lock of an unknown factor is dead-lettered, not told as another kind', async () => {
    const { bus, consumer, user, emails } = await setup();
    await consumer.start(new SecurityNoticeSubscriber(new SendSecurityNotice({ publicUrl: 'https://app.example.com' })));
    bus.start();
    await bus.publish([event('auth.account.locked', { user_id: user.id, locked_until: '2026-03-01T12:15:00.000Z', factor: 'webauthn' })]);
    await eventually(() => bus.deadLetters('security-notices').length === 1);
    expect(emails()).toEqual([]);
  });

  it('processes a duplicate delivery once (de-duplication by event id, recorded in the same transaction)', async () => {
    const { bus, consumer, user, emails, logger, db } = await setup();
    await consumer.start(new SecurityNoticeSubscriber(new SendSecurityNotice({ publicUrl: 'https://app.example.com' })));
    bus.start();
    const once = event('auth.session.refresh_reuse_detected', { user_id: user.id, session_id: randomUUID() });
    await bus.publish([once]);
    await bus.idle();
    await bus.publish([once]);
    await bus.idle();
    expect(emails()).toHaveLength(1);
    expect(db.tables.processedEvents.has(`security-notices\n${once.id}`)).toBe(true);
    expect(logger.messages()).toContain('event already processed; duplicate delivery ignored');
  });

  it('a handler that rejects with null is a failure, retried, not acked (a review of exception handling, stop 65)', async () => {
    const { bus, consumer, emails } = await setup(5);
    const flaky = new Flaky(2, null as unknown as Error);
    await consumer.start(flaky);
    bus.start();
    await bus.publish([event('auth.user.updated', { user_id: 'u' })]);
    await eventually(() => flaky.calls === 3);
    await bus.idle();
    expect(emails().map((e) => e.subject)).toEqual(['call 3']);
  });

  it('retries with growing delays, rolling back each failed attempt, then succeeds once', async () => {
    const { bus, consumer, emails } = await setup(5);
    const flaky = new Flaky(2);
    await consumer.start(flaky);
    bus.start();
    await bus.publish([event('auth.user.updated', { user_id: 'u' })]);
    await eventually(() => flaky.calls === 3);
    await bus.idle();
    expect(emails().map((e) => e.subject)).toEqual(['call 3']); // the writes of the failed attempts rolled back
    expect(bus.deadLetters('flaky')).toEqual([]);
  });

  it('sends a delivery that failed maxAttempts times to the dead-letter queue, with nothing committed', async () => {
    const { bus, consumer, emails, db, logger } = await setup(3);
    const flaky = new Flaky(Infinity);
    await consumer.start(flaky);
    bus.start();
    const failing = event('auth.user.updated', { user_id: 'u' });
    await bus.publish([failing]);
    await eventually(() => bus.deadLetters('flaky').length === 1);
    expect(flaky.calls).toBe(3);
    expect(bus.deadLetters('flaky')[0]).toMatchObject({ attempt: 3, reason: 'Error: downstream unavailable', event: { id: failing.id } });
    expect(emails()).toEqual([]);
    expect(db.tables.processedEvents.size).toBe(0);
    expect(logger.lines.filter((l) => l.message === 'event handling failed; will retry')).toHaveLength(2);
  });

  it('an outage (the database unreachable) is retried past maxAttempts, and handled once it ends; a longer one is dead-lettered after OUTAGE_EXTRA_ATTEMPTS more (outside review, 2026-12-02)', async () => {
    const { bus, consumer, emails } = await setup(3);
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const failover = new Flaky(7, unreachable); // a failover: seven failed attempts, more than maxAttempts (3)
    await consumer.start(failover);
    bus.start();
    await bus.publish([event('auth.user.updated', { user_id: 'u' })]);
    await eventually(() => failover.calls === 8);
    await bus.idle();
    expect(bus.deadLetters('flaky')).toEqual([]);
    expect(emails().map((e) => e.subject)).toEqual(['call 8']);

    const down = await setup(3);
    const outage = new Flaky(Infinity, unreachable);
    await down.consumer.start(outage);
    down.bus.start();
    await down.bus.publish([event('auth.user.updated', { user_id: 'u' })]);
    await eventually(() => down.bus.deadLetters('flaky').length === 1, 20_000);
    expect(outage.calls).toBe(3 + OUTAGE_EXTRA_ATTEMPTS);
  }, 30_000);

  it.each([
    ['a write on a read-only server (25006: a demoted primary after a failover)', '25006', 'cannot execute INSERT in a read-only transaction'],
    ['a transaction rolled back for a concurrent one (40P01)', '40P01', 'deadlock detected'],
  ])('%s is an outage too: retried past maxAttempts, not dead-lettered (outside review, stop 48)', async (_what, code, message) => {
    const { bus, consumer, emails } = await setup(3);
    // TypeORM's QueryFailedError carries the driver's error: the code is found there.
    const failure = Object.assign(new Error(message), { name: 'QueryFailedError', driverError: Object.assign(new Error(message), { code }) });
    const failover = new Flaky(6, failure);
    await consumer.start(failover);
    bus.start();
    await bus.publish([event('auth.user.updated', { user_id: 'u' })]);
    await eventually(() => failover.calls === 7, 20_000);
    await bus.idle();
    expect(bus.deadLetters('flaky')).toEqual([]);
    expect(emails().map((e) => e.subject)).toEqual(['call 7']);
  }, 30_000);

  it('dead-letters a permanent error at once', async () => {
    const { bus, consumer } = await setup(5);
    const broken = new Flaky(Infinity, new PermanentEventError('no such field'));
    await consumer.start(broken);
    bus.start();
    await bus.publish([event('auth.user.updated', { user_id: 'u' })]);
    await eventually(() => bus.deadLetters('flaky').length === 1);
    expect(broken.calls).toBe(1);
  });
});
