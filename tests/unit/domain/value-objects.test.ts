import { DomainError } from '@domain/shared/domain-error';
import { Email } from '@domain/user/email';
import { Password } from '@domain/user/password';
import { Role } from '@domain/user/role';
import { UserId } from '@domain/user/user-id';
import { Username } from '@domain/user/username';

describe('Email', () => {
  it('stores the canonical form: trimmed, NFKC, lower-case', () => {
    expect(Email.create('  Alice@Example.COM ').value).toBe('alice@example.com');
    // Fullwidth letters fold to ASCII under NFKC, so they cannot create a look-alike second account.
    expect(Email.create('ａｌｉｃｅ@example.com').value).toBe('alice@example.com');
  });

  it.each(['', 'no-at-sign', 'a@b', 'a b@example.com', '@example.com', 'a@@example.com', `${'a'.repeat(250)}@x.io`])(
    'rejects %p with VALIDATION_ERROR on the email field',
    (raw) => {
      const attempt = () => Email.create(raw);
      expect(attempt).toThrow(DomainError);
      try {
        attempt();
      } catch (error) {
        expect((error as DomainError).code).toBe('VALIDATION_ERROR');
        expect((error as DomainError).details).toHaveProperty('email');
      }
    },
  );

  it('exposes the local part and compares by value', () => {
    const email = Email.create('first.last@example.com');
    expect(email.localPart).toBe('first.last');
    expect(email.equals(Email.create('FIRST.LAST@example.com'))).toBe(true);
    expect(email.equals(Email.create('other@example.com'))).toBe(false);
  });
});

describe('Username', () => {
  it('is case-insensitive and limited to [a-z0-9_.-]{3,32}', () => {
    expect(Username.create('Alice_01').value).toBe('alice_01');
    expect(() => Username.create('ab')).toThrow(DomainError);
    expect(() => Username.create('a'.repeat(33))).toThrow(DomainError);
    expect(() => Username.create('bad name')).toThrow(DomainError);
    expect(() => Username.create('a@b')).toThrow(DomainError);
  });
});

describe('Password', () => {
  it('enforces the configured minimum and the 128 maximum in code points', () => {
    expect(() => Password.create('short', 8)).toThrow(expect.objectContaining({ code: 'WEAK_PASSWORD' }));
    expect(Password.create('a'.repeat(128), 8).reveal()).toHaveLength(128);
    expect(() => Password.create('a'.repeat(129), 8)).toThrow(expect.objectContaining({ code: 'WEAK_PASSWORD' }));
    // 128 emoji are 256 UTF-16 units but 128 characters: allowed.
    expect(() => Password.create('😀'.repeat(128), 8)).not.toThrow();
  });

  it('is NFKC-normalised before its length is counted (NIST SP 800-63B), and knows its typed form when that differs', () => {
    const nfd = 'e\u0301'.repeat(100); // 200 code points typed, 100 once composed
    expect(Password.create(nfd, 8).reveal()).toBe('\u00e9'.repeat(100));
    expect(Password.create('caf\u00e9 au lait', 8).reveal()).toBe(Password.create('cafe\u0301 au lait', 8).reveal());
    expect(Password.create('\ufb00ine \uff21BC words', 8).reveal()).toBe('ffine ABC words'); // compatibility forms too
    expect(Password.candidates('cafe\u0301 au lait')).toEqual(['caf\u00e9 au lait', 'cafe\u0301 au lait']);
    expect(Password.candidates('plain ascii words')).toEqual(['plain ascii words']);
  });

  it('never shows itself in logs or JSON', () => {
    const password = Password.create('correct horse battery', 8);
    expect(String(password)).toBe('[password]');
    expect(JSON.stringify({ password })).not.toContain('correct');
  });
});

describe('UserId', () => {
  it('accepts UUIDs only', () => {
    expect(UserId.create('3F2504E0-4F89-11D3-9A0C-0305E82C3301').value).toBe('3f2504e0-4f89-11d3-9a0c-0305e82c3301');
    expect(() => UserId.create('1; DROP TABLE users')).toThrow(DomainError);
  });
});

describe('Role', () => {
  it('a list keeps order, drops duplicates, holds 1 to 20 valid names: an empty list is refused on `roles`', () => {
    expect(Role.list(['user', 'billing_ops', 'user']).map((r) => r.value)).toEqual(['user', 'billing_ops']);
    expect(() => Role.list([])).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR', details: { roles: ['at least one role, e.g. ["user"]'] } }));
    expect(() => Role.list(Array.from({ length: 21 }, (_, i) => `r${i}`))).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    expect(() => Role.list(['Admin'])).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });
});
