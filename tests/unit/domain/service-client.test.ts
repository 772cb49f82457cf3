import { formatScope, parseScope } from '@domain/client/scope';
import { ServiceClient } from '@domain/client/service-client';
import { DomainError } from '@domain/shared/domain-error';

const NOW = new Date('2026-01-01T00:00:00Z');
const register = (name: string, scope: string) => ServiceClient.register({ id: 'c1', name, secretHash: 'h', scope }, NOW);

describe('scope (RFC 6749 §3.3)', () => {
  it('parses space-separated tokens, de-duplicated, and refuses malformed ones', () => {
    expect(parseScope('a b a')).toEqual(['a', 'b']);
    expect(parseScope('')).toEqual([]);
    expect(formatScope(['a', 'b'])).toBe('a b');
    for (const bad of ['a  b', ' a', 'a ', 'a"b', 'a\\b', 'é', 'a\tb', 'x'.repeat(101), Array.from({ length: 51 }, (_, i) => `s${i}`).join(' ')]) {
      expect(parseScope(bad)).toBeNull();
    }
  });
});

describe('ServiceClient', () => {
  it('registers with a trimmed name and its allowed scopes (whitespace between them normalised)', () => {
    const client = register('  billing  ', ' orders:read   orders:write ');
    expect(client.toState()).toEqual({ id: 'c1', name: 'billing', secretHash: 'h', scopes: ['orders:read', 'orders:write'], createdAt: NOW, lastUsedAt: null, deletedAt: null, tokensValidAfter: null });
    expect(client.isActive()).toBe(true);
  });

  it('refuses an empty, overlong or control-character name and malformed scopes', () => {
    for (const [name, scope] of [['', 'a'], ['x'.repeat(101), 'a'], ['a\u0000b', 'a'], ['ok', 'a "b"']] as const) {
      expect(() => register(name, scope)).toThrow(DomainError);
    }
  });

  it('grants every allowed scope by default, a subset when asked, nothing beyond', () => {
    const client = register('billing', 'a b');
    expect(client.grant(null)).toEqual(['a', 'b']);
    expect(client.grant(['b'])).toEqual(['b']);
    expect(client.grant([])).toEqual([]);
    expect(client.grant(['a', 'c'])).toBeNull();
  });

  it('is inactive once deleted (restored with deleted_at)', () => {
    const state = { ...register('billing', 'a').toState(), deletedAt: NOW };
    expect(ServiceClient.restore(state).isActive()).toBe(false);
  });

  describe('a new secret (rotate-client-secret)', () => {
    const at = (iso: string) => new Date(iso);

    it('replaces the digest only, and cuts off earlier tokens only when asked', () => {
      const client = register('billing', 'a b');
      const kept = client.withNewSecret('h2', at('2026-01-02T00:00:10.500Z'), false);
      expect(kept.toState()).toEqual({ ...client.toState(), secretHash: 'h2' });
      const revoked = client.withNewSecret('h3', at('2026-01-02T00:00:10.500Z'), true);
      expect(revoked.toState()).toEqual({ ...client.toState(), secretHash: 'h3', tokensValidAfter: at('2026-01-02T00:00:10.500Z') });
      expect(client.secretHash).toBe('h'); // the original is unchanged
    });

    it('never moves a cut-off back: not without --revoke-tokens, not with a clock behind the one that set it', () => {
      const revoked = register('billing', 'a').withNewSecret('h2', at('2026-01-02T00:00:10.500Z'), true);
      expect(revoked.withNewSecret('h3', at('2026-01-02T00:05:00Z'), false).tokensValidAfter).toEqual(at('2026-01-02T00:00:10.500Z'));
      expect(revoked.withNewSecret('h4', at('2026-01-02T00:00:09Z'), true).tokensValidAfter).toEqual(at('2026-01-02T00:00:10.500Z'));
      expect(revoked.withNewSecret('h5', at('2026-01-02T00:00:11Z'), true).tokensValidAfter).toEqual(at('2026-01-02T00:00:11Z'));
    });

    it('is refused to a deleted client', () => {
      const deleted = ServiceClient.restore({ ...register('billing', 'a').toState(), deletedAt: NOW });
      expect(() => deleted.withNewSecret('h2', NOW, true)).toThrow();
    });

    it('refuses tokens issued (iat, whole seconds) in the cut-off second or earlier; honours those of the seconds after it', () => {
      const fresh = register('billing', 'a');
      expect(fresh.acceptsTokenIssuedAt(0)).toBe(true); // no cut-off: every token of an active client
      expect(fresh.tokensAcceptedFrom()).toBeNull();
      const cutOff = at('2026-01-02T00:00:10.500Z');
      const second = cutOff.getTime() / 1000 - 0.5;
      const revoked = fresh.withNewSecret('h2', cutOff, true);
      expect(revoked.acceptsTokenIssuedAt(second - 1)).toBe(false);
      // A token of the old secret signed at 10.200 (before the rotation committed) has iat 10, as one signed at 10.700
      // would: the whole second is refused (the rule was `iat >= that second`, which let the old secret's token pass).
      expect(revoked.acceptsTokenIssuedAt(second)).toBe(false);
      expect(revoked.acceptsTokenIssuedAt(second + 1)).toBe(true);
      // The first instant whose tokens pass: the start of the next second (IssueClientToken waits for it).
      expect(revoked.tokensAcceptedFrom()).toEqual(at('2026-01-02T00:00:11.000Z'));
      // A cut-off on a whole second refuses that second too.
      const exact = fresh.withNewSecret('h3', at('2026-01-02T00:00:10.000Z'), true);
      expect([exact.acceptsTokenIssuedAt(second - 1), exact.acceptsTokenIssuedAt(second), exact.acceptsTokenIssuedAt(second + 1)]).toEqual([false, false, true]);
      expect(exact.tokensAcceptedFrom()).toEqual(at('2026-01-02T00:00:11.000Z'));
      const deleted = ServiceClient.restore({ ...revoked.toState(), deletedAt: NOW });
      expect(deleted.acceptsTokenIssuedAt(second + 1)).toBe(false);
    });
  });
});
