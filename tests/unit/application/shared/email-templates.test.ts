import { emailChangedEmail, emailChangeRequestedEmail, registrationContestedEmail, validFor, verificationEmail } from '@application/shared/email-templates';

describe('a link lifetime in an email', () => {
  /** Until stop 34 TTLs were rounded to hours: a 15-minute link read "valid for 0 hours" (outside review). */
  it.each([
    [60, '1 minute'],
    [59, '1 minute'],
    [300, '5 minutes'],
    [900, '15 minutes'],
    [5400, '90 minutes'],
    [5399, '89 minutes'],
    [3600, '1 hour'],
    [86400, '24 hours'],
    [72 * 3600, '72 hours'],
    [7 * 86400, '168 hours'],
  ])('%p seconds: %p (never more than the link gives)', (seconds, words) => {
    expect(validFor(seconds)).toBe(words);
  });

  it('is what the emails say', () => {
    expect(verificationEmail('a@example.com', 'https://app.example.com', 't', 900).text).toContain('The link is valid for 15 minutes and can be used once.');
    expect(registrationContestedEmail('a@example.com', 'https://app.example.com', 't', 86400).text).toContain('The link is valid for 24 hours and can be used once.');
  });
});

describe("the owner's notices of an email change", () => {
  /** A quoted local part may carry a URL of the requester's choosing (outside review, 2026-12-02): only the domain. */
  it('name a quoted new address by its domain only, a plain one in full', () => {
    const quoted = '"https://evil.example/secure-your-account"@evil.example';
    for (const mail of [emailChangeRequestedEmail('owner@example.com', quoted, 'https://app.example.com'), emailChangedEmail('owner@example.com', quoted)]) {
      expect(mail.text).not.toContain('https://evil.example');
      expect(mail.html).not.toContain('https://evil.example');
      expect(mail.text).toContain('an address at evil.example');
    }
    expect(emailChangedEmail('owner@example.com', 'new.name@example.org').text).toContain('Your account now signs in with new.name@example.org;');
  });

  /** The recipient's own address too (a review of stop 50: it was repeated as is, URL and all). */
  it('do not repeat a quoted address of the recipient; a plain one in full', () => {
    const quoted = '"visit https://evil.test/secure-login now"@catchall.example.com';
    for (const mail of [emailChangeRequestedEmail(quoted, 'new-one@example.com', 'https://app.example.com'), emailChangedEmail(quoted, 'new-one@example.com')]) {
      expect(mail.text).not.toContain('evil.test');
      expect(mail.html).not.toContain('evil.test');
      expect(mail.text).toContain('this address');
    }
    expect(emailChangeRequestedEmail('owner@example.com', 'new-one@example.com', 'https://app.example.com').text).toContain('instead of this address (owner@example.com).');
    expect(emailChangedEmail('owner@example.com', 'new-one@example.com').text).toContain('; this address (owner@example.com) no longer does.');
  });

  /** A plain local part may hold `/ ? = & # %` too: a `www.` URL went out in full (outside review, 2026-12-08). */
  it.each(['www.evil.example/undo?x@attacker.example', 'evil.example#x@attacker.example', 'a%2F=b&c@attacker.example', "o'brien@attacker.example"])(
    'name the plain address %p by its domain only, to the old address and to its own mailbox',
    (address) => {
      const local = address.slice(0, address.lastIndexOf('@'));
      for (const mail of [emailChangeRequestedEmail('owner@example.com', address, 'https://app.example.com'), emailChangedEmail('owner@example.com', address)]) {
        expect(mail.text).not.toContain(local);
        expect(mail.html).not.toContain(local.replace(/'/g, '&#39;'));
        expect(mail.text).toContain('an address at attacker.example');
      }
      for (const mail of [emailChangeRequestedEmail(address, 'new-one@example.com', 'https://app.example.com'), emailChangedEmail(address, 'new-one@example.com')]) {
        expect(mail.text).not.toContain(local);
        expect(mail.text).toContain('this address');
      }
    },
  );

  it('name addresses of letters, digits and . _ + - in full, in any script', () => {
    for (const address of ['first.last+tag_1-x@example.org', 'jörg.müller@example.de', '用户@例子.测试', 'राम@उदाहरण.भारत', 'สมชาย@example.th']) {
      expect(emailChangedEmail('owner@example.com', address).text).toContain(`Your account now signs in with ${address};`);
      expect(emailChangedEmail(address, 'new-one@example.com').text).toContain(`this address (${address}) no longer does.`);
    }
  });
});
