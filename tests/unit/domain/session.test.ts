import type { Session } from '@domain/session/session';
import { aSession } from '../../support/mothers';

const T0 = new Date('2026-01-01T00:00:00Z');
const LIFETIMES = { idleSeconds: 30 * 86400, absoluteSeconds: 90 * 86400 };
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const start = (): Session =>
  aSession('u1', { id: 's1', refreshTokenHash: 'h1', sealedRefreshToken: 'sealed1', ip: null, userAgent: null, now: T0, lifetimes: LIFETIMES });

describe('Session', () => {
  it('has a sliding expiry capped by the absolute lifetime', () => {
    const session = start();
    expect(session.expiresAt).toEqual(at(30 * 86400));
    session.rotate({ refreshTokenHash: 'h2', sealedRefreshToken: 's2' }, at(80 * 86400), LIFETIMES);
    expect(session.expiresAt).toEqual(at(90 * 86400));
    expect(session.isActive(at(90 * 86400 - 1))).toBe(true);
    expect(session.isActive(at(90 * 86400))).toBe(false);
  });

  it('rotates the current token and keeps the replaced one as previous, then retires it', () => {
    const session = start();
    expect(session.decideRefresh('current', at(1), 10, LIFETIMES)).toEqual({ kind: 'rotate' });
    session.rotate({ refreshTokenHash: 'h2', sealedRefreshToken: 's2' }, at(1), LIFETIMES);
    session.rotate({ refreshTokenHash: 'h3', sealedRefreshToken: 's3' }, at(2), LIFETIMES);
    const state = session.toState();
    expect(state.refreshTokenHash).toBe('h3');
    expect(state.previousTokenHash).toBe('h2');
    expect(state.retiredTokenHashes).toEqual(['h1']);
  });

  it('replays the previous token inside the grace window without revoking', () => {
    const session = start();
    session.rotate({ refreshTokenHash: 'h2', sealedRefreshToken: 's2' }, at(100), LIFETIMES);
    expect(session.decideRefresh('previous', at(110), 10, LIFETIMES)).toEqual({ kind: 'replay' });
    expect(session.revokedAt).toBeNull();
    expect(session.pullEvents()).toEqual([]);
  });

  it('treats the previous token after the window, or a retired one, as reuse: revoked with an event', () => {
    for (const [presented, when] of [['previous', 111], ['retired', 101]] as const) {
      const session = start();
      session.rotate({ refreshTokenHash: 'h2', sealedRefreshToken: 's2' }, at(100), LIFETIMES);
      expect(session.decideRefresh(presented, at(when), 10, LIFETIMES)).toEqual({ kind: 'reuse_detected' });
      expect(session.isActive(at(when))).toBe(false);
      expect(session.pullEvents().map((e) => e.type)).toEqual(['auth.session.revoked', 'auth.session.refresh_reuse_detected']);
      expect(session.decideRefresh('current', at(when + 1), 10, LIFETIMES)).toEqual({ kind: 'reject' });
    }
  });

  it('measures the grace window both ways: a rotation dated by a clock ahead is reuse beyond the window', () => {
    // A review of clocks (stop 65): an instance whose clock is behind the rotating one's saw a negative age, which
    // counted as inside the window: a copy of the replaced token got the current one for as long as the skew.
    for (const [when, kind] of [[90, 'replay'], [89, 'reuse_detected'], [-200, 'reuse_detected']] as const) {
      const session = start();
      session.rotate({ refreshTokenHash: 'h2', sealedRefreshToken: 's2' }, at(100), LIFETIMES);
      expect(session.decideRefresh('previous', at(when), 10, LIFETIMES)).toEqual({ kind });
    }
  });

  it('rejects every token of a revoked or expired session', () => {
    const revoked = start();
    revoked.revoke(at(5), 'logout');
    expect(revoked.decideRefresh('current', at(6), 10, LIFETIMES)).toEqual({ kind: 'reject' });
    expect(start().decideRefresh('current', at(31 * 86400), 10, LIFETIMES)).toEqual({ kind: 'reject' });
  });

  it('revokes once', () => {
    const session = start();
    session.revoke(at(1), 'logout');
    session.revoke(at(2), 'logout_global');
    expect(session.toState().revokeReason).toBe('logout');
    expect(session.pullEvents()).toHaveLength(1);
  });
});

/**
 * A review of stop 51: the stored expiries were computed with the limits of the session's start or last refresh, and
 * only they counted. An operator who lowered SESSION_MAX_LIFETIME or REFRESH_TOKEN_TTL (after an incident) left every
 * existing session its old 90 days. The limits configured now count too.
 */
describe('Session under limits lowered after it began', () => {
  const LOWERED = { idleSeconds: 600, absoluteSeconds: 3600 };

  it('is refused at a refresh once older than the lowered absolute lifetime, though its stored end is later', () => {
    const session = start();
    session.rotate({ refreshTokenHash: 'h2', sealedRefreshToken: 's2' }, at(3000), LIFETIMES);
    expect(session.decideRefresh('current', at(3300), 10, LOWERED)).toEqual({ kind: 'rotate' });
    expect(session.decideRefresh('current', at(3600), 10, LOWERED)).toEqual({ kind: 'reject' });
    // Under the limits it began with it would still rotate.
    expect(session.decideRefresh('current', at(3600), 10, LIFETIMES)).toEqual({ kind: 'rotate' });
  });

  it('is refused once unused for the lowered idle lifetime', () => {
    const session = start();
    expect(session.decideRefresh('current', at(599), 10, LOWERED)).toEqual({ kind: 'rotate' });
    expect(session.decideRefresh('current', at(600), 10, LOWERED)).toEqual({ kind: 'reject' });
  });

  it('a rotation under the lowered limits shortens the stored ends; raised limits never lengthen them', () => {
    const session = start();
    session.rotate({ refreshTokenHash: 'h2', sealedRefreshToken: 's2' }, at(3300), LOWERED);
    expect(session.expiresAt).toEqual(at(3600));
    expect(session.toState().absoluteExpiresAt).toEqual(at(3600));
    session.rotate({ refreshTokenHash: 'h3', sealedRefreshToken: 's3' }, at(3500), LIFETIMES);
    expect(session.expiresAt).toEqual(at(3600));
  });

  it('ends, and stops being live, at the earlier of its stored end and the lowered limits, exactly when a refresh is refused', () => {
    const session = start();
    expect(session.endsAt(LIFETIMES)).toEqual(at(30 * 86400));
    expect(session.endsAt(LOWERED)).toEqual(at(600)); // unused: the idle limit comes first
    session.rotate({ refreshTokenHash: 'h2', sealedRefreshToken: 's2' }, at(3300), LIFETIMES);
    expect(session.endsAt(LOWERED)).toEqual(at(3600)); // used at 3300: the absolute limit comes first
    for (const second of [3599, 3600]) {
      const live = session.isLive(at(second), LOWERED);
      expect(live).toBe(second < 3600);
      expect(session.decideRefresh('current', at(second), 10, LOWERED).kind).toBe(live ? 'rotate' : 'reject');
    }
    session.revoke(at(3301), 'logout');
    expect(session.isLive(at(3302), LIFETIMES)).toBe(false);
  });
});

