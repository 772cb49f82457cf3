import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '@config/env';
import { shownUrl } from '@config/env-reader';

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

/** The problems, and the one line a failed start prints: neither may hold the secret. */
function refused(env: Record<string, string>, secret: string): string[] {
  const found = problems(env);
  expect(found.length).toBeGreaterThan(0);
  for (const problem of found) expect(problem).not.toContain(secret);
  expect(new ConfigError(found).oneLine).not.toContain(secret);
  return found;
}

/** A refused URL is quoted without its user, password, query or fragment, also when it does not parse (a review, 2026-12-06). */
describe('URLs quoted in configuration problems', () => {
  it('masks the user and password of an APP_PUBLIC_URL that does not parse (a missing colon), in production and out', () => {
    const typo = 'https//ops:Pa55word@app.example.com';
    const production = refused({ ...GOOD, APP_PUBLIC_URL: typo }, 'Pa55word');
    expect(production).toContain('APP_PUBLIC_URL must be an http(s) URL (got "https//***@app.example.com")');
    expect(production).toContain('APP_PUBLIC_URL must be an https URL when NODE_ENV=production (got "https//***@app.example.com")');
    expect(refused({ NODE_ENV: 'development', APP_PUBLIC_URL: typo }, 'Pa55word')).toEqual([
      'APP_PUBLIC_URL must be an http(s) URL (got "https//***@app.example.com")',
    ]);
  });

  it('masks the user and password of an APP_PUBLIC_URL of another scheme', () => {
    expect(refused({ NODE_ENV: 'development', APP_PUBLIC_URL: 'ftp://ops:S3cretPw@host.example' }, 'S3cretPw')).toContain(
      'APP_PUBLIC_URL must be an http(s) URL (got "ftp://***@host.example")',
    );
  });

  it('never quotes a password that holds "/", "?" or "#" unencoded, nor a query or fragment', () => {
    for (const bad of ['https://ops:pa/Secr3t@app.example.com', 'https://ops:pa?Secr3t@app.example.com', 'https://ops:pa#Secr3t@app.example.com', 'http//app.example.com/?token=Secr3t', 'ftp://app.example.com/#Secr3t']) {
      const found = refused({ NODE_ENV: 'development', APP_PUBLIC_URL: bad }, 'Secr3t');
      expect(found).toContainEqual(expect.stringContaining('APP_PUBLIC_URL must be an http(s) URL (got "'));
      for (const problem of found) expect(problem).not.toContain('ops:');
    }
  });

  it('masks the user and password of a JWT_ISSUER refused in production', () => {
    const found = refused({ ...GOOD, JWT_ISSUER: 'http//issuer:Iss5ecret@auth.example.com?x=1' }, 'Iss5ecret');
    expect(found).toEqual(['JWT_ISSUER must be an https URL when NODE_ENV=production (got "http//***@auth.example.com")']);
  });

  it('masks the credentials of a CORS_ORIGINS entry, and still names the entry', () => {
    const found = refused({ NODE_ENV: 'development', CORS_ORIGINS: 'https://ok.example.com,https://ops:C0rsPw@app.example.com' }, 'C0rsPw');
    expect(found).toEqual([expect.stringContaining('(got "https://***@app.example.com")')]);
  });

  it('never quotes the connection URLs it refuses', () => {
    const cases: [string, string][] = [
      ['DATABASE_URL', 'postgres//postgres:DbSecr3t@db:5432/auth'],
      ['REDIS_URL', 'http://:DbSecr3t@cache:6379'],
      ['AMQP_URL', 'amqp//guest:DbSecr3t@mq:5672'],
      ['SMTP_URL', 'smtp//ops:DbSecr3t@relay:587'],
    ];
    for (const [name, value] of cases) {
      expect(refused({ NODE_ENV: 'development', [name]: value }, 'DbSecr3t')).toEqual([expect.stringContaining(`${name} must be a URL starting with`)]);
    }
    expect(refused({ NODE_ENV: 'development', REDIS_MODE: 'cluster', REDIS_URL: 'redis://a:6379,redis//:DbSecr3t@b:6379' }, 'DbSecr3t')).toEqual([
      expect.stringContaining('REDIS_URL must be comma-separated URLs'),
    ]);
  });

  it('shows a URL without extras as it was written', () => {
    expect(shownUrl('http://app.example.com:8080/auth')).toBe('http://app.example.com:8080/auth');
    expect(shownUrl('https://app.example.com/?q=a@b#c')).toBe('https://app.example.com/');
    expect(shownUrl('*')).toBe('*');
    expect(shownUrl('ops:pw@host')).toBe('***@host');
  });
});

/** WHATWG URL takes `%ZZ` in a user or password; the clients' decoding then failed the start naming no variable (a review, 2026-12-06). */
describe('malformed %-escapes in a URL user or password', () => {
  const standalone: [string, string][] = [
    ['DATABASE_URL', 'postgres://postgres:Pa%ZZss@127.0.0.1:5432/test'],
    ['REDIS_URL', 'redis://:Pa%ZZss@127.0.0.1:6379'],
    ['AMQP_URL', 'amqp://guest:Pa%ZZss@127.0.0.1:5672'],
    ['SMTP_URL', 'smtp://Us%ZZer:Pa%ZZss@127.0.0.1:587'],
  ];

  it('refuses each connection URL with one, naming the variable and not quoting the value', () => {
    for (const [name, value] of standalone) {
      expect(refused({ NODE_ENV: 'development', [name]: value }, 'Pa%ZZss')).toEqual([`${name} has a malformed %-escape in its user or password`]);
    }
  });

  it('refuses a bad user name as well as a bad password', () => {
    expect(refused({ NODE_ENV: 'development', AMQP_URL: 'amqp://gu%G1est:guest@127.0.0.1:5672' }, 'gu%G1est')).toEqual(['AMQP_URL has a malformed %-escape in its user or password']);
  });

  it('refuses one in any URL of a REDIS_URL list (cluster, sentinel)', () => {
    for (const mode of ['cluster', 'sentinel']) {
      const env = { NODE_ENV: 'development', REDIS_MODE: mode, REDIS_SENTINEL_MASTER: 'mymaster', REDIS_URL: 'redis://:ok@a:6379,redis://:Pa%ZZss@b:6379' };
      if (mode === 'cluster') delete (env as Record<string, string>).REDIS_SENTINEL_MASTER;
      expect(refused(env, 'Pa%ZZss')).toEqual(['REDIS_URL has a malformed %-escape in its user or password']);
    }
  });

  it('refuses one in APP_PUBLIC_URL without quoting it', () => {
    expect(refused({ NODE_ENV: 'development', APP_PUBLIC_URL: 'https://ops:Pa%ZZss@app.example.com' }, 'Pa%ZZss')).toContain(
      'APP_PUBLIC_URL has a malformed %-escape in its user or password',
    );
  });

  it('accepts well-formed escapes, and the values stay as written', () => {
    const config = loadConfig({ NODE_ENV: 'development', DATABASE_URL: 'postgres://postgres:Pa%25ss%40x@127.0.0.1:5432/test', REDIS_URL: 'redis://:p%2Fw@127.0.0.1:6379' });
    expect(config.databaseUrl).toBe('postgres://postgres:Pa%25ss%40x@127.0.0.1:5432/test');
    expect(config.redisUrl).toBe('redis://:p%2Fw@127.0.0.1:6379');
    expect(loadConfig({ ...GOOD, REDIS_MODE: 'cluster', REDIS_URL: 'redis://:p%40w@a:6379,redis://b:6379' }).redisUrl).toBe('redis://:p%40w@a:6379,redis://b:6379');
  });
});
