import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '@config/env';
import { startupWarnings } from '@config/startup-warnings';

/** Everything production asks for, done right. */
const GOOD: Record<string, string> = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://auth:secret@db:5432/auth',
  REDIS_URL: 'redis://cache:6379',
  AMQP_URL: 'amqp://guest:guest@mq:5672',
  SMTP_URL: 'smtp://relay:587',
  ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
  APP_PUBLIC_URL: 'https://app.example.com',
  JWT_ISSUER: 'https://auth.example.com',
  MAIL_FROM: 'Example <no-reply@example.com>',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('production configuration', () => {
  it('starts with https URLs, verified SMTP certificates and SMTP TLS required by default', () => {
    const config = loadConfig(GOOD);
    expect(config.smtpTls).toEqual({ rejectUnauthorized: true, requireTls: true });
    expect(config.publicUrl).toBe('https://app.example.com');
    expect(config.jwt.issuer).toBe('https://auth.example.com');
  });

  it('lets an operator turn SMTP_REQUIRE_TLS off explicitly (a relay on the same host)', () => {
    expect(loadConfig({ ...GOOD, SMTP_REQUIRE_TLS: 'false' }).smtpTls.requireTls).toBe(false);
  });

  /** Outside review 2026-12-08: with the relay elsewhere, STARTTLS can be stripped on the path; nothing said so. */
  it('warns at start-up when SMTP TLS is off for a relay on another host, not for one on this host nor over smtps://', () => {
    const warnings = (env: Record<string, string>) => startupWarnings(loadConfig({ ...GOOD, METRICS_TOKEN: 'scrape-secret-0123456789', ...env }));
    expect(warnings({ SMTP_REQUIRE_TLS: 'false' })).toEqual([expect.stringMatching(/^SMTP_REQUIRE_TLS=false with SMTP_URL at relay, not this host: .*strip STARTTLS/)]);
    expect(warnings({ SMTP_REQUIRE_TLS: 'false', SMTP_URL: 'smtp://user:pw@10.0.0.5:25' })).toEqual([expect.stringContaining('at 10.0.0.5,')]);
    expect(warnings({ SMTP_REQUIRE_TLS: 'false', SMTP_URL: 'smtp://[2001:db8::5]:25' })).toHaveLength(1);
    for (const local of ['smtp://localhost:25', 'smtp://127.0.0.1:25', 'smtp://[::1]:25', 'smtp://mail.localhost:25', 'smtp://[::ffff:127.0.0.1]:25']) {
      expect(warnings({ SMTP_REQUIRE_TLS: 'false', SMTP_URL: local })).toEqual([]);
    }
    expect(warnings({ SMTP_REQUIRE_TLS: 'false', SMTP_URL: 'smtps://relay:465' })).toEqual([]);
    expect(warnings({})).toEqual([]);
    expect(startupWarnings(loadConfig({ NODE_ENV: 'development', SMTP_URL: 'smtp://relay:587' }))).toEqual([]);
    const pw = startupWarnings(loadConfig({ ...GOOD, METRICS_TOKEN: 'scrape-secret-0123456789', SMTP_REQUIRE_TLS: 'false', SMTP_URL: 'smtp://user:hunter2secret@relay:587' }));
    expect(pw.join(' ')).not.toContain('hunter2secret');
  });

  it('outside production SMTP TLS stays opportunistic and http URLs are fine', () => {
    const dev = loadConfig({ APP_PUBLIC_URL: 'http://localhost:3000', SMTP_TLS_REJECT_UNAUTHORIZED: 'false' });
    expect(dev.smtpTls).toEqual({ rejectUnauthorized: false, requireTls: false });
    expect(dev.jwt.issuer).toBe('http://localhost:3000');
  });

  it('refuses a plain-http APP_PUBLIC_URL, JWT_ISSUER and unverified SMTP certificates, naming every problem at once', () => {
    const found = problems({ ...GOOD, APP_PUBLIC_URL: 'http://app.example.com', JWT_ISSUER: 'http://auth.example.com', SMTP_TLS_REJECT_UNAUTHORIZED: 'false' });
    expect(found).toEqual([
      'APP_PUBLIC_URL must be an https URL when NODE_ENV=production (got "http://app.example.com")',
      'JWT_ISSUER must be an https URL when NODE_ENV=production (got "http://auth.example.com")',
      'SMTP_TLS_REJECT_UNAUTHORIZED=false is not allowed when NODE_ENV=production',
    ]);
  });

  it('refuses a well-formed ENCRYPTION_KEY that is no random key (64 zeros, a repeated pattern), never quoting it', () => {
    for (const key of ['0'.repeat(64), '01'.repeat(32), 'k'.repeat(43), '0123456789abcdef'.repeat(4)]) {
      const found = problems({ ...GOOD, ENCRYPTION_KEY: key });
      expect(found).toEqual([expect.stringMatching(/^ENCRYPTION_KEY does not look random/)]);
      expect(found[0]).not.toContain(key);
    }
    for (let i = 0; i < 200; i += 1) expect(problems({ ...GOOD, ENCRYPTION_KEY: randomBytes(32).toString(i % 2 ? 'hex' : 'base64url') })).toEqual([]);
  });

  it('never quotes the password of a URL it refuses, nor its query (the refusal goes to the container log)', () => {
    const found = problems({ ...GOOD, APP_PUBLIC_URL: 'http://ops:S3cretPw@staging.example.com/x?k=v', JWT_ISSUER: 'http://ops:S3cretPw@auth.example.com' });
    expect(found.join('\n')).not.toMatch(/S3cretPw|k=v/);
    expect(found).toContain('APP_PUBLIC_URL must be an https URL when NODE_ENV=production (got "http://***@staging.example.com/x")');
    expect(found).toContain('JWT_ISSUER must be an https URL when NODE_ENV=production (got "http://***@auth.example.com")');
  });

  it('refuses the http default public URL (and the issuer derived from it) when neither is set', () => {
    const { APP_PUBLIC_URL: _url, JWT_ISSUER: _iss, ...rest } = GOOD;
    const found = problems(rest);
    expect(found).toContain('APP_PUBLIC_URL must be an https URL when NODE_ENV=production (got "http://localhost:3000")');
    expect(found).toContain('JWT_ISSUER must be an https URL when NODE_ENV=production (got "http://localhost:3000")');
  });

  it('refuses an issuer that is not a URL at all', () => {
    expect(problems({ ...GOOD, JWT_ISSUER: 'auth-service' })).toEqual(['JWT_ISSUER must be an https URL when NODE_ENV=production (got "auth-service")']);
  });

  /** Outside review, 2026-12-03: each of these started, or was reported alone once the rest were fixed. */
  it('refuses an issuer with a query or fragment, Sentinel settings without a Sentinel, a malformed key: all at once', () => {
    for (const issuer of ['https://auth.example.com?x=1', 'https://auth.example.com#f', 'https://user:pw@auth.example.com']) {
      expect(problems({ ...GOOD, JWT_ISSUER: issuer })).toEqual(['JWT_ISSUER must be a plain https URL: no user or password, query or fragment (RFC 8414)']);
    }
    const found = problems({ ...GOOD, REDIS_SENTINEL_MASTER: 'mymaster', REDIS_SENTINEL_PASSWORD: 'pw', ENCRYPTION_KEY: 'too-short', APP_PUBLIC_URL: 'http://x.example.com' });
    expect(found).toEqual([
      'REDIS_SENTINEL_MASTER is read only with REDIS_MODE=sentinel (got REDIS_MODE=standalone)',
      'REDIS_SENTINEL_PASSWORD is read only with REDIS_MODE=sentinel (got REDIS_MODE=standalone)',
      expect.stringMatching(/^ENCRYPTION_KEY must be 32 bytes/),
      'APP_PUBLIC_URL must be an https URL when NODE_ENV=production (got "http://x.example.com")',
    ]);
    expect(problems({ ...GOOD, WORKERS: '0x2' })).toEqual([expect.stringMatching(/^WORKERS must be "auto" or an integer/)]);
  });

  it('MAIL_FROM: required, of a real domain (the default no-reply@localhost is refused by relays that check senders)', () => {
    const { MAIL_FROM: _unset, ...withoutSender } = GOOD;
    expect(problems(withoutSender)).toEqual([expect.stringMatching(/^MAIL_FROM is required when NODE_ENV=production/)]);
    expect(problems({ ...GOOD, MAIL_FROM: 'no-reply@localhost' })).toEqual([expect.stringContaining('MAIL_FROM must be an address of a real domain')]);
    expect(problems({ ...GOOD, MAIL_FROM: 'Auth <auth@mailhost>' })).toEqual([expect.stringContaining('(got the domain "mailhost")')]);
    expect(loadConfig({ ...GOOD, MAIL_FROM: 'Auth <auth@example.com>' }).mailFrom).toContain('auth@example.com');
    // Outside production the default stands (the dev mailbox does not care).
    expect(problems({ NODE_ENV: 'development' })).toEqual([]);
  });

  it('SMTP_URL takes no query (nodemailer would read tls.rejectUnauthorized=false or requireTLS=false from it)', () => {
    for (const url of ['smtp://u:p@relay:587/?tls.rejectUnauthorized=false', 'smtp://relay:587?requireTLS=false', 'smtps://relay:465/#x']) {
      expect(problems({ ...GOOD, SMTP_URL: url })).toEqual([expect.stringContaining('SMTP_URL takes no query or fragment')]);
      expect(problems({ NODE_ENV: 'development', SMTP_URL: url })).toEqual([expect.stringContaining('SMTP_URL takes no query or fragment')]);
    }
  });

  it('ENCRYPTION_LEGACY_VALUES: accept (default) or refuse; anything else is refused at start', () => {
    expect(loadConfig(GOOD).legacySealedValues).toBe('accept');
    expect(loadConfig({ ...GOOD, ENCRYPTION_LEGACY_VALUES: 'refuse' }).legacySealedValues).toBe('refuse');
    expect(problems({ ...GOOD, ENCRYPTION_LEGACY_VALUES: 'no' })).toEqual([expect.stringContaining('ENCRYPTION_LEGACY_VALUES')]);
  });

  it('ENCRYPTION_KEYS_PREVIOUS: keys as ENCRYPTION_KEY is, none twice, not the current one, at most 4; entries never echoed', () => {
    const [a, b] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
    expect(loadConfig({ ...GOOD, ENCRYPTION_KEYS_PREVIOUS: ` ${a} , ${b} ` }).previousEncryptionKeys).toEqual([a, b]);
    expect(loadConfig(GOOD).previousEncryptionKeys).toEqual([]);
    const found = problems({ ...GOOD, ENCRYPTION_KEY: a, ENCRYPTION_KEYS_PREVIOUS: `secret-ish,${b},${a.toUpperCase()},${b}` });
    expect(found).toEqual([
      'ENCRYPTION_KEYS_PREVIOUS entry 1 is not a key: 32 bytes as 64 hex characters or base64/base64url',
      'ENCRYPTION_KEYS_PREVIOUS entry 3 is ENCRYPTION_KEY itself',
      'ENCRYPTION_KEYS_PREVIOUS entry 4 is listed twice',
    ]);
    expect(found.join(' ')).not.toContain('secret-ish');
    const five = Array.from({ length: 5 }, (_, i) => String(i).repeat(64)).join(',');
    expect(problems({ ...GOOD, ENCRYPTION_KEYS_PREVIOUS: five })).toEqual(['ENCRYPTION_KEYS_PREVIOUS holds 5 keys: at most 4']);
  });

  it('lists the missing servers and keys together with the https problems', () => {
    const found = problems({ NODE_ENV: 'production', APP_PUBLIC_URL: 'http://x.example.com' });
    expect(found).toEqual(
      expect.arrayContaining([
        'DATABASE_URL is required when NODE_ENV=production',
        'ENCRYPTION_KEY is required when NODE_ENV=production',
        'APP_PUBLIC_URL must be an https URL when NODE_ENV=production (got "http://x.example.com")',
        'JWT_ISSUER must be an https URL when NODE_ENV=production (got "http://x.example.com")',
        expect.stringMatching(/^MAIL_FROM is required when NODE_ENV=production/),
      ]),
    );
    expect(found).toHaveLength(8);
  });
});

describe('METRICS_TOKEN in production', () => {
  it('is not required, but its absence is a start-up warning (GET /metrics is then public): outside review 2026-11-30', () => {
    const config = loadConfig(GOOD);
    expect(config.metricsToken).toBeNull();
    expect(startupWarnings(config)).toEqual([expect.stringMatching(/^METRICS_TOKEN is not set: GET \/metrics is public/)]);
  });

  it('no warning with a token, nor outside production', () => {
    expect(startupWarnings(loadConfig({ ...GOOD, METRICS_TOKEN: 'scrape-secret-0123456789' }))).toEqual([]);
    expect(startupWarnings(loadConfig({ NODE_ENV: 'development' }))).toEqual([]);
  });
});

describe('argon2 parameters', () => {
  const weak = { ARGON2_MEMORY_COST: '1024', ARGON2_TIME_COST: '1' };

  it.each(['production', 'development'])('NODE_ENV=%s refuses anything below 19 MiB and 2 passes', (nodeEnv) => {
    const env = nodeEnv === 'production' ? { ...GOOD, ...weak } : { NODE_ENV: nodeEnv, ...weak };
    expect(problems(env)).toEqual([expect.stringContaining('ARGON2_MEMORY_COST'), expect.stringContaining('ARGON2_TIME_COST')]);
    expect(loadConfig(nodeEnv === 'production' ? GOOD : { NODE_ENV: nodeEnv }).argon2).toMatchObject({ memoryCost: 19456, timeCost: 2 });
  });

  it('NODE_ENV=test keeps the same defaults and accepts cheaper ones (suites that are not about hashing)', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).argon2).toMatchObject({ memoryCost: 19456, timeCost: 2 });
    expect(loadConfig({ NODE_ENV: 'test', ...weak }).argon2).toMatchObject({ memoryCost: 1024, timeCost: 1 });
  });

  it('ARGON2_QUEUE_TIMEOUT: 5 s by default, 1-9 s (under the 10-s shutdown grace)', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).argon2.queueTimeoutMs).toBe(5000);
    expect(loadConfig({ NODE_ENV: 'test', ARGON2_QUEUE_TIMEOUT: '2s' }).argon2.queueTimeoutMs).toBe(2000);
    for (const bad of ['0', '10', '1m', 'soon']) {
      expect(problems({ NODE_ENV: 'test', ARGON2_QUEUE_TIMEOUT: bad })).toEqual([expect.stringContaining('ARGON2_QUEUE_TIMEOUT')]);
    }
  });
});

/** Settings that parse yet can only be mistakes (an outside review, 2026-12-02). */
describe('origins, the public URL and proxies trusted', () => {
  it('refuses CORS_ORIGINS entries that no Origin header can equal: "*", a path, a trailing slash, a default port, no scheme', () => {
    for (const bad of ['*', 'https://app.example.com/', 'https://app.example.com/app', 'https://app.example.com:443', 'app.example.com', 'https://App.Example.com']) {
      expect(() => loadConfig({ CORS_ORIGINS: `https://ok.example.com,${bad}` })).toThrow(`CORS_ORIGINS must list origins like https://app.example.com`);
    }
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' }).corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it('refuses an APP_PUBLIC_URL with credentials, a query or a fragment (it goes into every emailed link and the issuer)', () => {
    for (const bad of ['https://user:pw@app.example.com', 'https://app.example.com/?x=1', 'https://app.example.com/#top']) {
      expect(() => loadConfig({ APP_PUBLIC_URL: bad })).toThrow('APP_PUBLIC_URL must be a plain http(s) URL');
    }
    expect(loadConfig({ APP_PUBLIC_URL: 'https://example.com/auth/' }).publicUrl).toBe('https://example.com/auth');
  });

  it('warns at start when TRUSTED_PROXIES trusts every address (X-Forwarded-For then forgeable by any client), however written', () => {
    const warned = (list: string) => startupWarnings(loadConfig({ NODE_ENV: 'development', TRUSTED_PROXIES: list }));
    for (const everyone of ['0.0.0.0/0', '::/0']) {
      expect(warned(`10.0.0.0/8,${everyone}`)).toEqual([expect.stringContaining('trusts every IPv4')]);
    }
    expect(warned('::/0')).toEqual([expect.stringContaining('trusts every IPv4 and IPv6 address')]);
    // Every IPv4 peer through the IPv4-mapped range, or the space in halves (outside review, 2026-12-03).
    expect(warned('::ffff:0:0/96')).toEqual([expect.stringContaining('trusts every IPv4 address')]);
    expect(warned('0.0.0.0/1,128.0.0.0/1')).toEqual([expect.stringContaining('trusts every IPv4 address')]);
    expect(warned('2000::/3')).toEqual([expect.stringContaining('trusts every IPv6 address')]);
    // Private ranges, and a CDN's published range, are what the setting is for.
    expect(warned('10.0.0.0/8,fd00::/8')).toEqual([]);
    expect(warned('173.245.48.0/20,2400:cb00::/32,192.168.0.0/16')).toEqual([]);
  });
});
