import { loadConfig } from '@config/env';

describe('email queue limits', () => {
  it('default to 10 attempts and 3 days', () => {
    expect(loadConfig({}).emailQueue).toEqual({ maxAttempts: 10, maxAgeSeconds: 3 * 86400 });
    expect(loadConfig({ EMAIL_MAX_ATTEMPTS: '3', EMAIL_MAX_AGE: '12h' }).emailQueue).toEqual({ maxAttempts: 3, maxAgeSeconds: 43200 });
  });

  it('refuse what is not a positive count or a duration from a minute to 30 days', () => {
    for (const env of [{ EMAIL_MAX_ATTEMPTS: '0' }, { EMAIL_MAX_ATTEMPTS: 'many' }, { EMAIL_MAX_AGE: '30s' }, { EMAIL_MAX_AGE: '31d' }, { EMAIL_MAX_AGE: 'forever' }]) {
      const name = Object.keys(env)[0]!;
      expect(() => loadConfig(env)).toThrow(expect.objectContaining({ problems: [expect.stringContaining(name)] }));
    }
  });
});

/** Outside review, 2026-12-03: MAIL_FROM=not-an-address started, and every e-mail then failed at the SMTP server. */
describe('MAIL_FROM', () => {
  it('takes an address, or a display name and an address in angle brackets', () => {
    expect(loadConfig({}).mailFrom).toBe('auth-service <no-reply@localhost>');
    for (const from of ['no-reply@example.com', 'Example Auth <no-reply@auth.example.com>', '"Example, Inc." <a.b+c@mail.example.co.uk>', '<x@example.com>']) {
      expect(loadConfig({ MAIL_FROM: from }).mailFrom).toBe(from);
    }
  });

  it('refuses what is not one, with a line that names it', () => {
    for (const from of ['not-an-address', 'a@', '@example.com', 'two words@example.com', 'Name <not an address>', 'a@b.com, c@d.com', 'a@-bad-.com', 'x@example.com\r\nBcc: y@example.com', 'Name <a@b.com> trailing']) {
      expect(() => loadConfig({ MAIL_FROM: from })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('MAIL_FROM must be an e-mail address')] }));
    }
  });
});

/** Outside review, 2026-12-03: integers went through Number(), so PORT=0x1021 listened on 4129 and PORT=1e3 on 1000. */
describe('integer settings', () => {
  it('are decimal digits only', () => {
    expect(loadConfig({ PORT: '4129' }).port).toBe(4129);
    for (const port of ['0x1021', '1e3', '0b11', '4129.0', '+4129', ' 12 34']) {
      expect(() => loadConfig({ PORT: port })).toThrow(expect.objectContaining({ problems: [expect.stringContaining('PORT must be an integer')] }));
    }
  });
});
