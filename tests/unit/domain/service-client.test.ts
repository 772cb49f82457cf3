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
    expect(client.toState()).toEqual({ id: 'c1', name: 'billing', secretHash: 'h', scopes: ['orders:read', 'orders:write'], createdAt: NOW, lastUsedAt: null, deletedAt: null });
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
});
