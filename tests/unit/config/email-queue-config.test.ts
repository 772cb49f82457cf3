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
