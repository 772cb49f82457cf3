import type { SecurityNotice } from '@application/shared/security-notices';
import type { SendSecurityNotice } from '@application/account/send-security-notice';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { Repositories } from '@application/ports/unit-of-work';
import { EventTypes } from '@domain/shared/event-types';
import { PermanentEventError, type EventSubscriber } from './event-subscriber';

const REFRESH_REUSE_DETECTED = EventTypes.SessionRefreshReuseDetected;
const ACCOUNT_LOCKED = EventTypes.AccountLocked;

/** The subscriber's name: its queues are `<AMQP_QUEUE_PREFIX>security-notices` (and `.retry`, `.dlq`). */
export const SECURITY_NOTICES_SUBSCRIBER = 'security-notices';

/** Its queue and bindings (OWN_SUBSCRIPTIONS: the publisher declares them before it publishes). */
export const SECURITY_NOTICES_SUBSCRIPTION = { name: SECURITY_NOTICES_SUBSCRIBER, patterns: [REFRESH_REUSE_DETECTED, ACCOUNT_LOCKED] } as const;

/** Emails the account owner when a replayed refresh token revoked a session, or the account got locked. */
export class SecurityNoticeSubscriber implements EventSubscriber {
  readonly name = SECURITY_NOTICES_SUBSCRIPTION.name;
  readonly patterns = [...SECURITY_NOTICES_SUBSCRIPTION.patterns];

  constructor(private readonly notices: SendSecurityNotice) {}

  async handle(event: IntegrationEvent, repos: Repositories): Promise<void> {
    const userId = typeof event.data.user_id === 'string' ? event.data.user_id : event.subject;
    await this.notices.execute(repos, { userId, notice: toNotice(event) });
  }
}

function toNotice(event: IntegrationEvent): SecurityNotice {
  const occurredAt = readDate(event.time);
  if (occurredAt === null) throw new PermanentEventError(`event ${event.id} has no valid time`);
  if (event.type === REFRESH_REUSE_DETECTED) return { kind: 'refresh_token_reuse', occurredAt };
  if (event.type === ACCOUNT_LOCKED) {
    const until = event.data.locked_until;
    return { kind: 'account_locked', occurredAt, lockedUntil: typeof until === 'string' ? readDate(until) : null, factor: lockedFactor(event) };
  }
  throw new PermanentEventError(`unexpected event type ${event.type}`);
}

/**
 * Events recorded before `factor` existed (still in the outbox at an upgrade) get the email every lockout got then,
 * the password one: they cannot be told apart. Any other value is not guessed at: a second-step lock told as
 * password guessing misleads the owner.
 */
function lockedFactor(event: IntegrationEvent): 'password' | 'second_factor' {
  const factor = event.data.factor;
  if (factor === undefined || factor === 'password') return 'password';
  if (factor === 'second_factor') return 'second_factor';
  throw new PermanentEventError(`event ${event.id} has an unknown lock factor`);
}

function readDate(value: string): Date | null {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
