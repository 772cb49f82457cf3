import { DomainError } from '@domain/shared/domain-error';
import { Email } from '@domain/user/email';

/** The crafted addresses of the hardening issue: each would be delivered by a mailer to x@evil.test. */
const NOT_ONE_MAILBOX = [
  'x@evil.test(example.com)',
  'b<x@evil.test>',
  'x@evil.test,example.com',
  'x@evil.test;example.com',
];

function rejection(raw: string): DomainError | null {
  try {
    Email.create(raw);
    return null;
  } catch (error) {
    return error as DomainError;
  }
}

describe('Email accepts one RFC 5321 mailbox', () => {
  it.each([
    ['alice@example.com', 'alice@example.com'],
    ['first.last+tag@mail.example.co.uk', 'first.last+tag@mail.example.co.uk'],
    ["o'brien!#$%&*/=?^_`{|}~-@example.com", "o'brien!#$%&*/=?^_`{|}~-@example.com"],
    ['a@b.co', 'a@b.co'],
    ['x@xn--bcher-kva.example', 'x@xn--bcher-kva.example'],
    ['user@bücher.example', 'user@bücher.example'],
    ['User@BÜCHER.Example', 'user@bücher.example'],
    ['info@例え.テスト', 'info@例え.テスト'],
    ['δοκιμή@παράδειγμα.δοκιμή', 'δοκιμή@παράδειγμα.δοκιμή'],
    ['user@sub-domain.ex-ample.com', 'user@sub-domain.ex-ample.com'],
    ['"john doe"@example.com', '"john doe"@example.com'],
    ['"John.Doe"@example.com', 'john.doe@example.com'],
    ['"x@evil.test"@example.com', '"x@evil.test"@example.com'],
    ['"a\\"b"@example.com', '"a\\"b"@example.com'],
    ['"a\\b"@example.com', 'ab@example.com'],
    ['  Alice@Example.COM ', 'alice@example.com'],
    ['ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ', 'alice@example.com'],
    [`${'a'.repeat(64)}@example.com`, `${'a'.repeat(64)}@example.com`],
    [`a@${'b'.repeat(63)}.com`, `a@${'b'.repeat(63)}.com`],
  ])('%p is stored as %p', (raw, stored) => {
    expect(Email.create(raw).value).toBe(stored);
  });

  it('accepts the longest address (254 octets) and refuses one octet more', () => {
    const address = (f: number) => `${'l'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(f)}.com`;
    expect(address(57)).toHaveLength(254);
    expect(Email.create(address(57)).value).toBe(address(57));
    expect(rejection(address(58))?.code).toBe('VALIDATION_ERROR');
  });
});

describe('Email refuses what is not one mailbox', () => {
  it.each([
    ...NOT_ONE_MAILBOX,
    // comments, display names, brackets, lists, groups
    '(comment)x@example.com',
    'x(comment)@example.com',
    'Bob <bob@example.com>',
    '<bob@example.com>',
    'bob@example.com>',
    'a@example.com, b@example.com',
    'a@example.com;b@example.com',
    'group:a@example.com;',
    'x@evil.test\\@example.com',
    // NFKC turns these into specials: fullwidth comma, small semicolon, fullwidth angle brackets
    'x@evil.test\uff0cexample.com',
    'x@evil.test\ufe54example.com',
    '\uff1cx@evil.test\uff1e',
    // whitespace and control characters
    'a b@example.com',
    'a@exa mple.com',
    'a\t@example.com',
    'a@example.com\r\nBcc: x@evil.test',
    'a\u0000@example.com',
    '"a\u0007b"@example.com',
    '"a\tb"@example.com',
    'a\u00a0b@example.com',
    'alice\u200b@example.com',
    'alice@exa\u202emple.com',
    // the shape of a mailbox
    '',
    'no-at-sign',
    '@example.com',
    'a@',
    'a@@example.com',
    'a@b@example.com',
    'a@b',
    'a@localhost',
    '.a@example.com',
    'a.@example.com',
    'a..b@example.com',
    '""@example.com',
    '"unterminated@example.com',
    'a"b"@example.com',
    '"a"b@example.com',
    // < > even quoted: the mail library would send them as spaces, to another mailbox
    '"<x@evil.test>"@example.com',
    '"a<b"@example.com',
    '"a>"@example.com',
    '"a\\<b"@example.com',
    '"a\\>b"@example.com',
    '"\uff1cx\uff1e"@example.com',
    // domains
    'a@example..com',
    'a@.example.com',
    'a@example.com.',
    'a@-example.com',
    'a@example-.com',
    'a@exa_mple.com',
    'a@[192.0.2.1]',
    'a@[IPv6:2001:db8::1]',
    'a@192.0.2.1',
    'a@bü--cher.example',
    'a@\u0301bcher.example',
    'a@☃.example',
    // lengths: 65-octet local part, 64-octet label, 255-octet address, 2-octet letters counted as 2
    `${'a'.repeat(65)}@example.com`,
    `${'é'.repeat(33)}@example.com`,
    `a@${'b'.repeat(64)}.com`,
    `${'a'.repeat(250)}@x.io`,
  ])('%p is a VALIDATION_ERROR on the email field', (raw) => {
    const error = rejection(raw);
    expect(error).toBeInstanceOf(DomainError);
    expect(error?.code).toBe('VALIDATION_ERROR');
    expect(error?.details?.email).toEqual([expect.stringMatching(/email address/)]);
    expect(Email.parse(raw)).toBeNull();
  });
});

describe('Email.parse', () => {
  it('returns the same canonical mailbox as create, or null', () => {
    expect(Email.parse(' "Bob"@Example.com')?.value).toBe('bob@example.com');
    expect(Email.parse('bob@example.com(x)')).toBeNull();
  });

  it('canonicalize gives every spelling of one mailbox the stored value, and folds what is not a mailbox', () => {
    for (const spelling of ['bob@example.com', '"bob"@example.com', '"b\\ob"@Example.com', ' "BOB"@ｅｘａｍｐｌｅ.com']) {
      expect(Email.canonicalize(spelling)).toBe('bob@example.com');
    }
    expect(Email.canonicalize(' Bob_99 ')).toBe('bob_99');
    expect(Email.canonicalize(' X@Evil.test(Example.com)')).toBe('x@evil.test(example.com)');
  });

  it('keeps the local part of a quoted address whole', () => {
    expect(Email.create('"x@evil.test"@example.com').localPart).toBe('"x@evil.test"');
  });
});
