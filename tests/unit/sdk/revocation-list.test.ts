import { randomUUID } from 'node:crypto';
import { createTokenVerifier, RevocationList, type RevocationCheck, type VerifiedToken } from '../../../src/sdk';
import { applyRevocationEvent, parseEvent } from '../../../src/sdk/revocation-events';
import { OAuthPeer, PEER_AUDIENCE, PEER_ISSUER } from '../../support/oauth-peer';
import { FakeClock } from './support';

const RETENTION_MS = 16 * 60_000;

function userToken(clock: FakeClock, overrides: Partial<VerifiedToken> & { iatMs?: number } = {}): VerifiedToken {
  const iat = Math.floor((overrides.iatMs ?? clock.ms) / 1000);
  return { subject: 'u-1', sessionId: 's-1', tokenType: 'user', roles: ['user'], scopes: [], claims: { iat, exp: iat + 900 }, ...overrides };
}

describe('RevocationList', () => {
  const list = (options: { maxEntries?: number } = {}) => {
    const clock = new FakeClock();
    return { clock, list: new RevocationList({ now: clock.now, ...options }) };
  };

  it('a revoked session refuses its tokens; other sessions and service tokens pass', () => {
    const { clock, list: l } = list();
    l.revokeSession('s-1');
    expect(l.isRevoked(userToken(clock))).toBe(true);
    expect(l.isRevoked(userToken(clock, { sessionId: 's-2' }))).toBe(false);
    expect(l.isRevoked({ ...userToken(clock), tokenType: 'service', sessionId: null, subject: 's-1' })).toBe(false);
    l.revokeSession('s-1'); // idempotent
    expect(l.size).toBe(1);
  });

  it('keeps a session for the default retention (15 min + 60 s) from the later of event time and arrival, then forgets it', () => {
    const { clock, list: l } = list();
    const token = userToken(clock);
    l.revokeSession('s-1', clock.ms - 5 * 60_000); // an event that arrives 5 min late still lives 16 min from now
    clock.advance(RETENTION_MS / 1000 - 1);
    expect(l.isRevoked(token)).toBe(true);
    clock.advance(2);
    expect(l.isRevoked(token)).toBe(false);
    l.revokeSession('s-other'); // a write drops what expired
    expect(l.size).toBe(1);
  });

  it('retention is configurable', () => {
    const clock = new FakeClock();
    const l = new RevocationList({ now: clock.now, retentionMs: 10_000 });
    l.revokeSession('s-1');
    clock.advance(9);
    expect(l.isRevoked(userToken(clock))).toBe(true);
    clock.advance(2);
    expect(l.isRevoked(userToken(clock))).toBe(false);
    expect(() => new RevocationList({ retentionMs: 0 })).toThrow(TypeError);
    expect(() => new RevocationList({ maxEntries: 0 })).toThrow(TypeError);
  });

  it('a user cut-off refuses tokens issued before it (any session) and accepts tokens issued after it', () => {
    const { clock, list: l } = list();
    const before = userToken(clock, { sessionId: 's-9' });
    clock.advance(0.2); // same second as the token's iat: iat rounds down, so it is still "before"
    l.cutOffUser('u-1');
    expect(l.isRevoked(before)).toBe(true);
    expect(l.isRevoked(userToken(clock, { subject: 'u-2' }))).toBe(false);
    clock.advance(5);
    expect(l.isRevoked(userToken(clock, { sessionId: 's-10' }))).toBe(false); // e.g. logged in after re-activation
    expect(l.isRevoked({ ...before, claims: {} })).toBe(true); // no iat: cannot be shown to be newer
  });

  it('fails closed within the cut-off second: a token issued after the cut-off in the same second is refused, one of the next second accepted (README)', () => {
    const { clock, list: l } = list();
    clock.ms = Math.floor(clock.ms / 1000) * 1000 + 300; // the cut-off 300 ms into a second
    l.cutOffUser('u-1');
    clock.advance(0.5); // a refresh 500 ms later: the new token's iat is the cut-off's second
    expect(l.isRevoked(userToken(clock, { sessionId: 's-2' }))).toBe(true);
    clock.advance(0.2); // the next second: accepted
    expect(l.isRevoked(userToken(clock, { sessionId: 's-2' }))).toBe(false);
    clock.ms = Math.floor(clock.ms / 1000) * 1000 + 5000; // a cut-off exactly on a whole second refuses nothing after it
    l.cutOffUser('u-1');
    expect(l.isRevoked(userToken(clock, { sessionId: 's-3' }))).toBe(false);
  });

  it('the latest cut-off wins whatever order the events arrive in', () => {
    const { clock, list: l } = list();
    const t0 = clock.ms;
    l.cutOffUser('u-1', t0 + 60_000);
    l.cutOffUser('u-1', t0); // older, arriving later
    expect(l.isRevoked(userToken(clock, { iatMs: t0 + 30_000 }))).toBe(true);
    expect(l.isRevoked(userToken(clock, { iatMs: t0 + 61_000 }))).toBe(false);
    expect(l.size).toBe(1);
  });

  it('is bounded: beyond maxEntries the oldest entry goes and is counted', () => {
    const { clock, list: l } = list({ maxEntries: 3 });
    for (const sid of ['a', 'b', 'c', 'd', 'e']) {
      l.revokeSession(sid);
      clock.advance(1);
    }
    expect(l.size).toBe(3);
    expect(l.evicted).toBe(2);
    expect(['a', 'b', 'c', 'd', 'e'].map((sid) => l.isRevoked(userToken(clock, { sessionId: sid })))).toEqual([false, false, true, true, true]);
  });

  it('expired entries make room before anything live is evicted', () => {
    const { clock, list: l } = list({ maxEntries: 2 });
    l.revokeSession('a');
    l.revokeSession('b');
    clock.advance(RETENTION_MS / 1000 + 1);
    l.revokeSession('c');
    l.revokeSession('d');
    expect(l.evicted).toBe(0);
    expect(l.size).toBe(2);
  });

  it('when full, expired entries anywhere make room before a live one is evicted: an event time ahead of this clock shields none (stop 49)', () => {
    const clock = new FakeClock();
    const l = new RevocationList({ now: clock.now, maxEntries: 3, retentionMs: 60_000 });
    l.revokeSession('ahead', clock.ms + 120_000); // its event's clock is 2 min ahead: kept until then + retention
    l.revokeSession('b');
    l.revokeSession('c');
    clock.advance(90); // b and c expired, 'ahead' lives another 90 s, at the front of the Map
    l.revokeSession('d');
    expect(l.isRevoked(userToken(clock, { sessionId: 'ahead' }))).toBe(true);
    expect(l.isRevoked(userToken(clock, { sessionId: 'd' }))).toBe(true);
    expect(l.evicted).toBe(0);
    expect(l.size).toBe(2);
  });

  it('stays bounded under 100,000 distinct revocations', () => {
    const { clock, list: l } = list({ maxEntries: 1000 });
    for (let i = 0; i < 100_000; i += 1) l.revokeSession(`s-${i}`);
    expect(l.size).toBe(1000);
    expect(l.isRevoked(userToken(clock, { sessionId: 's-99999' }))).toBe(true);
    expect(l.isRevoked(userToken(clock, { sessionId: 's-0' }))).toBe(false);
  });
});

describe('parseEvent (CloudEvents structured JSON, read defensively)', () => {
  const sid = randomUUID();
  const uid = randomUUID();
  const event = { specversion: '1.0', id: randomUUID(), source: 'auth-service', type: 'auth.session.revoked', subject: uid, time: '2026-03-01T12:00:00.000Z', datacontenttype: 'application/json', data: { user_id: uid, session_id: sid, reason: 'logout' } };

  it('reads type, time, user and session', () => {
    expect(parseEvent(Buffer.from(JSON.stringify(event)))).toEqual({ type: 'auth.session.revoked', time: Date.parse(event.time), userId: uid, sessionId: sid, data: event.data });
  });

  it.each([
    ['not JSON', '{nope'],
    ['an array', '[]'],
    ['null', 'null'],
    ['no type', JSON.stringify({ ...event, type: undefined })],
    ['a numeric type', JSON.stringify({ ...event, type: 7 })],
  ])('ignores %s', (_what, body) => {
    expect(parseEvent(body)).toBeUndefined();
  });

  it('drops ids and times it cannot trust, keeps the rest', () => {
    const parsed = parseEvent(JSON.stringify({ ...event, time: 'yesterday', subject: 'x'.repeat(500), data: { session_id: { $ne: null }, user_id: 'a b' } }));
    expect(parsed).toMatchObject({ type: 'auth.session.revoked', time: undefined, userId: undefined, sessionId: undefined });
  });
});

describe('applyRevocationEvent: which events revoke what', () => {
  const clock = new FakeClock();
  const at = (ms: number) => new Date(ms).toISOString();
  const send = (list: RevocationList, type: string, data: Record<string, unknown>, timeMs = clock.ms) =>
    applyRevocationEvent(list, JSON.stringify({ specversion: '1.0', id: randomUUID(), source: 'auth-service', type, subject: 'u-1', time: at(timeMs), data: { user_id: 'u-1', ...data } }));
  const fresh = () => new RevocationList({ now: clock.now });
  const token = (overrides: Partial<VerifiedToken> & { iatMs?: number } = {}) => userToken(clock, { iatMs: clock.ms - 10_000, ...overrides });

  it.each(['auth.session.revoked', 'auth.session.refresh_reuse_detected'])('%s revokes the session', (type) => {
    const list = fresh();
    expect(send(list, type, { session_id: 's-1', reason: 'logout' })).toBe(true);
    expect(list.isRevoked(token())).toBe(true);
    expect(list.isRevoked(token({ sessionId: 's-2' }))).toBe(false);
  });

  it('auth.user.deleted and a suspension cut the user off; re-activation leaves later tokens alone', () => {
    const deleted = fresh();
    expect(send(deleted, 'auth.user.deleted', {})).toBe(true);
    expect(deleted.isRevoked(token({ sessionId: 'any' }))).toBe(true);

    const suspended = fresh();
    const suspendedAt = clock.ms;
    expect(send(suspended, 'auth.user.status_changed', { status: 'suspended', previous_status: 'active' }, suspendedAt)).toBe(true);
    expect(suspended.isRevoked(token())).toBe(true);
    expect(send(suspended, 'auth.user.status_changed', { status: 'active', previous_status: 'suspended' }, suspendedAt + 60_000)).toBe(false);
    expect(suspended.isRevoked(token())).toBe(true); // issued before the suspension: still refused
    expect(suspended.isRevoked(token({ iatMs: suspendedAt + 61_000 }))).toBe(false); // issued after re-activation
  });

  it('auth.user.roles_changed cuts off only when a role was taken away', () => {
    const list = fresh();
    expect(send(list, 'auth.user.roles_changed', { roles: ['user', 'admin'], previous_roles: ['user'] })).toBe(false);
    expect(list.isRevoked(token())).toBe(false);
    expect(send(list, 'auth.user.roles_changed', { roles: ['user'], previous_roles: ['user', 'admin'] })).toBe(true);
    expect(list.isRevoked(token())).toBe(true);
  });

  it('ignores other types, and revocation events without a usable id', () => {
    const list = fresh();
    expect(send(list, 'auth.user.logged_in', { session_id: 's-1' })).toBe(false);
    expect(send(list, 'auth.session.revoked', {})).toBe(false);
    expect(applyRevocationEvent(list, 'not json')).toBe(false);
    expect(list.size).toBe(0);
  });
});

describe('createTokenVerifier with revocations (offline, a local peer)', () => {
  let peer: OAuthPeer;
  beforeAll(async () => (peer = await new OAuthPeer().start()));
  afterAll(async () => peer.stop());

  const setup = (check: RevocationCheck, extra: { failClosedWhenDisconnected?: boolean; introspection?: boolean } = {}) =>
    createTokenVerifier({
      issuer: PEER_ISSUER,
      audience: PEER_AUDIENCE,
      jwksUrl: peer.jwksUrl,
      revocations: check,
      failClosedWhenDisconnected: extra.failClosedWhenDisconnected,
      ...(extra.introspection ? { introspection: { url: peer.introspectUrl, clientId: peer.clients[0]!.id, clientSecret: peer.clients[0]!.secret } } : {}),
    });

  it('a revoked session is INVALID_TOKEN offline; another session of the user passes', async () => {
    const list = new RevocationList();
    const v = setup(list);
    const sid = randomUUID();
    const token = await peer.userToken({ sid });
    await expect(v.verify(token)).resolves.toMatchObject({ sessionId: sid });
    list.revokeSession(sid);
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    await expect(v.verify(await peer.userToken({ sid: randomUUID() }))).resolves.toMatchObject({ tokenType: 'user' });
  });

  it('a disconnected feed: offline by default; with failClosedWhenDisconnected, online (or AUTH_UNAVAILABLE without introspection)', async () => {
    const down: RevocationCheck = { healthy: false, isRevoked: () => false };
    const token = await peer.userToken({ sid: randomUUID() });
    await expect(setup(down).verify(token)).resolves.toMatchObject({ tokenType: 'user' });
    await expect(setup(down, { failClosedWhenDisconnected: true }).verify(token)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    const before = peer.requests('/oauth/introspect');
    await setup(down, { failClosedWhenDisconnected: true, introspection: true }).verify(token).catch(() => undefined);
    expect(peer.requests('/oauth/introspect')).toBe(before + 1);
    const up: RevocationCheck = { healthy: true, isRevoked: () => false };
    await expect(setup(up, { failClosedWhenDisconnected: true }).verify(token)).resolves.toMatchObject({ tokenType: 'user' });
    expect(() => createTokenVerifier({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl, failClosedWhenDisconnected: true })).toThrow(TypeError);
  });

  it('a feed back after an outage: with failClosedWhenDisconnected, tokens issued before it resumed (plus the clock tolerance) are checked online', async () => {
    const token = await peer.userToken({ sid: randomUUID() }); // iat: now, this host's clock
    const resumed = (resumedAt: number | null): RevocationCheck => ({ healthy: resumedAt !== null, resumedAt, isRevoked: () => false });
    const strict = (check: RevocationCheck, introspection = false) => setup(check, { failClosedWhenDisconnected: true, introspection });
    const unavailable = { code: 'AUTH_UNAVAILABLE', status: 503 };
    // Resumed just now, or within the 60-s tolerance after the token: it may have been revoked during the outage.
    await expect(strict(resumed(Date.now() + 1000)).verify(token)).rejects.toMatchObject(unavailable);
    await expect(strict(resumed(Date.now() - 30_000)).verify(token)).rejects.toMatchObject(unavailable);
    const before = peer.requests('/oauth/introspect');
    await strict(resumed(Date.now()), true).verify(token).catch(() => undefined);
    expect(peer.requests('/oauth/introspect')).toBe(before + 1);
    // Resumed more than the tolerance before the token, no outage since the first subscription, or a list with none
    // to tell of: offline.
    for (const check of [resumed(Date.now() - 120_000), resumed(0), { healthy: true, isRevoked: () => false }]) {
      await expect(strict(check).verify(token)).resolves.toMatchObject({ tokenType: 'user' });
    }
    // Without failClosedWhenDisconnected nothing changes.
    await expect(setup(resumed(Date.now() + 1000)).verify(token)).resolves.toMatchObject({ tokenType: 'user' });
  });
});
