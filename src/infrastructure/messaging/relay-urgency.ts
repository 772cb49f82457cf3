import type { DomainEvent } from '@domain/shared/domain-event';
import { EventTypes } from '@domain/shared/event-types';

/**
 * The events of the hash-bound hot paths (a login, a failed login, a registration): many per second under load,
 * and nobody acts on them within milliseconds. A commit that wrote only these wakes the relay after a short delay
 * (`OutboxRelayOptions.batchDelayMs`), so that the commits of that window go out in one round: one claim, one
 * publish with its confirms and one mark for several events instead of each. Every other event (a revocation, a
 * suspension, a deletion, a role change, a lockout, a reuse...) wakes it at once: offline verifiers and the
 * security notices act on those.
 */
const BATCHABLE: ReadonlySet<string> = new Set([EventTypes.UserLoggedIn, EventTypes.UserLoginFailed, EventTypes.UserRegistered]);

/** Which wake-up a commit that wrote `events` asks for (see WakeTargets). */
export function relayWakeFor(events: readonly DomainEvent[]): 'relay' | 'relaySoon' {
  return events.every((event) => BATCHABLE.has(event.type)) ? 'relaySoon' : 'relay';
}
