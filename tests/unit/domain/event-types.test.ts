import { AggregateRoot } from '@domain/shared/domain-event';
import { EVENT_TYPES, EventTypes, isEventType } from '@domain/shared/event-types';

/** CONTRACT §6, verbatim. */
const CONTRACT_TYPES = [
  'auth.user.registered', 'auth.user.email_verified', 'auth.user.logged_in', 'auth.user.login_failed',
  'auth.account.locked', 'auth.password.reset_requested', 'auth.password.reset', 'auth.credentials.updated',
  'auth.session.revoked', 'auth.session.refresh_reuse_detected', 'auth.user.updated', 'auth.user.deleted',
  'auth.user.status_changed', 'auth.user.roles_changed', 'auth.mfa.enabled', 'auth.mfa.disabled',
];

/** Compiled by `tsc --noEmit` (tests are in the project): each @ts-expect-error fails the build if the error goes. */
class Probe extends AggregateRoot {
  typed(): void {
    this.record(EventTypes.UserDeleted, 'u1', new Date(0), { user_id: 'u1' });
    this.record('auth.credentials.updated', 'u1', new Date(0), { user_id: 'u1', changed: ['password'] });
  }
  wrong(): void {
    // @ts-expect-error an event type outside the catalogue
    this.record('auth.user.renamed', 'u1', new Date(0), { user_id: 'u1' });
    // @ts-expect-error a payload without its required field
    this.record(EventTypes.UserLoggedIn, 'u1', new Date(0), { user_id: 'u1', amr: ['pwd'] });
    // @ts-expect-error a field of the wrong type
    this.record(EventTypes.UserLoginFailed, 'u1', new Date(0), { user_id: 'u1', reason: 'x', failed_attempts: '3' });
    // @ts-expect-error a changed-field name outside the catalogue
    this.record(EventTypes.CredentialsUpdated, 'u1', new Date(0), { user_id: 'u1', changed: ['password_hash'] });
    // @ts-expect-error another event's payload
    this.record(EventTypes.AccountLocked, 'u1', new Date(0), { user_id: 'u1', session_id: 's1' });
  }
}

describe('the event type catalogue', () => {
  it('names exactly the types of CONTRACT §6, each once', () => {
    expect([...EVENT_TYPES].sort()).toEqual([...CONTRACT_TYPES].sort());
    expect(new Set(EVENT_TYPES).size).toBe(EVENT_TYPES.length);
  });

  it('tells catalogued types from others', () => {
    expect(CONTRACT_TYPES.every(isEventType)).toBe(true);
    expect(['auth.user', 'auth.user.registered.x', 'AUTH.USER.REGISTERED', ''].some(isEventType)).toBe(false);
  });

  it('records what the aggregate was given, typed by the catalogue', () => {
    const probe = new Probe();
    probe.typed();
    expect(probe.pullEvents()).toEqual([
      { type: 'auth.user.deleted', subject: 'u1', occurredAt: new Date(0), data: { user_id: 'u1' } },
      { type: 'auth.credentials.updated', subject: 'u1', occurredAt: new Date(0), data: { user_id: 'u1', changed: ['password'] } },
    ]);
    expect(probe.pullEvents()).toEqual([]);
  });
});
