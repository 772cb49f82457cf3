import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEALED } from '@application/ports/secret-box';
import { resolveEncryptionKey } from '@config/encryption-key';
import { reseal } from '@config/maintenance';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { RESEALED_KINDS, resealRows } from '@infrastructure/persistence/typeorm/reseal';
import { newQueuedEmail } from '@infrastructure/email/email-queue';
import { NO_RATE_LIMITS, PASSWORD, signUp, startTestApp, type TestApp } from '../support/app';
import { cliInProcess } from '../support/cli-in-process';
import { seedMigratedPgdata } from '../support/pgdata-template';
import { createScratchDatabase, REAL_POSTGRES_SELECTED } from '../support/servers';
import { midStep, oathtool, STEP_MS } from '../support/totp';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const hex = (key: Buffer) => key.toString('hex');
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface Counts {
  [table: string]: { resealed: number; current: number; unopenable: number };
}

/**
 * Changing ENCRYPTION_KEY (docs/key-rotation.md): the new key with the old one in ENCRYPTION_KEYS_PREVIOUS, then
 * `reseal`, then the old key dropped. On the real PostgreSQL when selected (CI), else PGlite; one database for the
 * service's three starts and the commands between them.
 */
describe('ENCRYPTION_KEY rotation: keyring and reseal', () => {
  let dataDir: string;
  let scratch: { url: string; drop(): Promise<void> } | null = null;
  let t: TestApp | undefined;
  const started: TestApp[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'auth-rotation-'));
    if (REAL_POSTGRES_SELECTED) scratch = await createScratchDatabase();
    else await seedMigratedPgdata(dataDir);
  }, 60_000);
  afterAll(async () => {
    for (const app of started) await app.stop().catch(() => undefined);
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const database = (): Record<string, string> => (scratch ? { DATABASE_URL: scratch.url } : { DATA_DIR: dataDir });
  async function start(keys: Record<string, string>): Promise<TestApp> {
    const app = await startTestApp({ dataDir, ...(scratch ? { databaseUrl: scratch.url } : {}), env: { ...NO_RATE_LIMITS, ...keys } });
    started.push(app);
    return app;
  }
  async function stop(app: TestApp): Promise<void> {
    await app.stop();
    started.splice(started.indexOf(app), 1);
  }
  const cli = (args: string[], keys: Record<string, string>) => cliInProcess(args, { ...database(), ...keys });
  const app = () => t as TestApp;

  async function totpLogin(email: string, secret: string) {
    const login = await app().http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
    app().clock.advance(STEP_MS / 1000);
    return app().http.post('/api/v1/auth/mfa/verify').send({ mfa_token: login.body.data.mfa_token, code: oathtool(secret, app().clock.now()) });
  }

  it('under the new key with the old one previous, everything sealed before still opens; reseal moves it all; then the old key can go', async () => {
    // 1. Under key A: an account with TOTP and backup codes, one with a session, mailed e-mails, signing keys.
    t = await start({ ENCRYPTION_KEY: hex(keyA) });
    app().clock.set(midStep(app().clock.now()));
    const mfa = await signUp(app(), 'mfa@example.com');
    const setup = await app().http.post('/api/v1/auth/mfa/totp/setup').set(bearer(mfa.tokens.access_token)).expect(200);
    const secret = setup.body.data.secret as string;
    const enable = await app().http.post('/api/v1/auth/mfa/totp/enable').set(bearer(mfa.tokens.access_token)).send({ code: oathtool(secret, app().clock.now()) }).expect(200);
    const backupCodes = enable.body.data.backup_codes as string[];
    const plain = await signUp(app(), 'plain@example.com');
    const kidsBefore = (await app().http.get('/.well-known/jwks.json').expect(200)).body.keys.map((k: { kid: string }) => k.kid);
    // An e-mail still queued (its next attempt tomorrow): a sent one's bodies are dropped (since 2026-12-08), a queued
    // one's are sealed under the key of the moment and resealed with the rest.
    const held = newQueuedEmail(new AesGcmSecretBox(keyA), { to: 'held@example.com', subject: 'Held', text: 'link held-token', html: '<p>held-token</p>' }, app().clock.now());
    await app().app.infra.dataSource.query(
      'INSERT INTO email_outbox (id, recipient, subject, sealed_text, sealed_html, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [held.id, held.recipient, held.subject, held.sealedText, held.sealedHtml, held.createdAt, new Date(Date.now() + 86_400_000)],
    );
    await stop(app());
    const client = JSON.parse((await cli(['create-client', '--name', 'billing', '--scopes', 'orders:read'], { ENCRYPTION_KEY: hex(keyA) })).stdout) as { client_id: string; client_secret: string };

    // 2. Key B, A previous: TOTP, a backup code, the old session's refresh token, the client's secret, the same keys.
    const ring = { ENCRYPTION_KEY: hex(keyB), ENCRYPTION_KEYS_PREVIOUS: hex(keyA) };
    t = await start(ring);
    app().clock.set(new Date(Date.now() + 2 * STEP_MS));
    expect((await totpLogin('mfa@example.com', secret)).status).toBe(200);
    const withBackup = await app().http.post('/api/v1/auth/login').send({ email: 'mfa@example.com', password: PASSWORD }).expect(200);
    await app().http.post('/api/v1/auth/mfa/verify').send({ mfa_token: withBackup.body.data.mfa_token, backup_code: backupCodes[0] }).expect(200);
    const refreshed = await app().http.post('/api/v1/auth/refresh').send({ refresh_token: plain.tokens.refresh_token }).expect(200);
    await app().http.get('/api/v1/users/me').set(bearer(refreshed.body.data.tokens.access_token)).expect(200);
    const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
    const token = () => app().http.post('/oauth/token').set('Authorization', basic).type('form').send({ grant_type: 'client_credentials' });
    expect((await token()).status).toBe(200);
    expect((await app().http.get('/.well-known/jwks.json').expect(200)).body.keys.map((k: { kid: string }) => k.kid)).toEqual(kidsBefore);
    await stop(app());

    // 3. reseal: every sealed value under B; a second run finds nothing left to do.
    const first = await cli(['reseal'], ring);
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    const counts = JSON.parse(first.stdout) as Counts;
    expect(Object.keys(counts)).toEqual(['signing_keys', 'totp_secrets', 'sessions', 'emails', 'account_requests']);
    expect(counts['signing_keys']).toEqual({ resealed: kidsBefore.length, current: 0, unopenable: 0 });
    expect(counts['totp_secrets']).toEqual({ resealed: 1, current: 0, unopenable: 0 });
    // The MFA account's first session; the other sign-up's was refreshed under B, and step 2's logins sealed under B.
    expect(counts['sessions']).toEqual({ resealed: 1, current: 3, unopenable: 0 });
    // The held e-mail; the sent ones (two verification links, an "MFA is on" notice) hold no bodies any more.
    expect(counts['emails']).toEqual({ resealed: 1, current: 0, unopenable: 0 });
    for (const tally of Object.values(counts)) expect(tally.unopenable).toBe(0);
    const second = JSON.parse((await cli(['reseal'], ring)).stdout) as Counts;
    for (const tally of Object.values(second)) expect(tally.resealed).toBe(0);

    // 4. B alone: what was sealed opens. The digests (a client's secret, backup codes) cannot be re-made without the
    // secret itself: those from before the change stop working with the old key, as docs/key-rotation.md says.
    t = await start({ ENCRYPTION_KEY: hex(keyB) });
    app().clock.set(new Date(Date.now() + 6 * STEP_MS));
    expect((await totpLogin('mfa@example.com', secret)).status).toBe(200);
    await app().http.post('/api/v1/auth/refresh').send({ refresh_token: refreshed.body.data.tokens.refresh_token }).expect(200);
    expect((await app().http.get('/.well-known/jwks.json').expect(200)).body.keys.map((k: { kid: string }) => k.kid)).toEqual(kidsBefore);
    expect((await token()).status).toBe(401);
    const [heldRow] = (await app().app.infra.dataSource.query('SELECT sealed_text FROM email_outbox WHERE id = $1', [held.id])) as { sealed_text: string }[];
    expect(app().app.infra.secretBox.open(heldRow!.sealed_text, SEALED.emailBody(held.id, 'text'))).toBe('link held-token');
    const late = await app().http.post('/api/v1/auth/login').send({ email: 'mfa@example.com', password: PASSWORD }).expect(200);
    expect((await app().http.post('/api/v1/auth/mfa/verify').send({ mfa_token: late.body.data.mfa_token, backup_code: backupCodes[1] })).status).toBe(401);
    // One session's token sealed under a key nobody holds (a key dropped before reseal ran, say).
    const lost = new AesGcmSecretBox(randomBytes(32));
    const [victim] = (await app().app.infra.dataSource.query('SELECT id::text AS id FROM sessions ORDER BY id LIMIT 1')) as { id: string }[];
    await app().app.infra.dataSource.query('UPDATE sessions SET sealed_refresh_token = $2 WHERE id = $1', [victim?.id, lost.seal('x', SEALED.refreshToken(victim?.id as string))]);
    await stop(app());

    // 5. reseal counts what opens under no key, leaves it, says so and exits 1; everything else is current.
    const partial = await cli(['reseal'], { ENCRYPTION_KEY: hex(keyB) });
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(/^reseal: 1 sealed value\(s\) open under no key given \(ENCRYPTION_KEY, ENCRYPTION_KEYS_PREVIOUS\)/);
    const after = JSON.parse(partial.stdout) as Counts;
    expect(after['sessions']).toEqual({ resealed: 0, current: expect.any(Number), unopenable: 1 });
    for (const [table, tally] of Object.entries(after)) if (table !== 'sessions') expect({ table, ...tally }).toMatchObject({ table, resealed: 0, unopenable: 0 });
    // A key that opens nothing: the command cannot start, and says which key.
    const wrong = await cli(['reseal'], { ENCRYPTION_KEY: hex(randomBytes(32)) });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Cannot decrypt signing key .*ENCRYPTION_KEY is not the key it was sealed with/);
  }, 120_000);

  it('reseal covers every kind of sealed value there is (SEALED): one added without it would be left under the old key', () => {
    expect([...RESEALED_KINDS].sort()).toEqual(Object.keys(SEALED).sort());
  });

  it("refuses to start when ENCRYPTION_KEYS_PREVIOUS lists the key file's key (embedded mode: no ENCRYPTION_KEY to compare at config time)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-rotation-file-'));
    try {
      const { key } = await resolveEncryptionKey(null, dir);
      await expect(startTestApp({ dataDir: dir, backend: 'pglite', env: { ENCRYPTION_KEYS_PREVIOUS: key } })).rejects.toThrow(/^ENCRYPTION_KEYS_PREVIOUS lists the current key \(.*encryption\.key\)$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reseal racing refreshes: a token a refresh wrote meanwhile is kept, never overwritten with the old one (5 rounds)', async () => {
    t = await start({ ENCRYPTION_KEY: hex(keyB), ENCRYPTION_KEYS_PREVIOUS: hex(keyA) });
    const { dataSource, secretBox } = app().app.infra;
    const old = new AesGcmSecretBox(keyA);
    const refreshTokens: string[] = [];
    for (let u = 0; u < 4; u++) {
      const email = `race${u}@example.com`;
      refreshTokens.push((await signUp(app(), email)).tokens.refresh_token);
      for (let s = 0; s < 9; s++) refreshTokens.push((await app().http.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200)).body.data.tokens.refresh_token);
    }
    const sessions = async () => (await dataSource.query("SELECT s.id::text AS id, s.refresh_token_hash, s.sealed_refresh_token FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email LIKE 'race%'")) as { id: string; refresh_token_hash: string; sealed_refresh_token: string }[];
    for (let round = 0; round < 5; round++) {
      // Every session's token under the previous key again, as an instance still sealing with A left them.
      for (const row of await sessions()) {
        const plain = secretBox.open(row.sealed_refresh_token, SEALED.refreshToken(row.id));
        await dataSource.query('UPDATE sessions SET sealed_refresh_token = $2 WHERE id = $1', [row.id, old.seal(plain, SEALED.refreshToken(row.id))]);
      }
      const [refreshes] = await Promise.all([
        Promise.all(refreshTokens.map((refresh) => app().http.post('/api/v1/auth/refresh').send({ refresh_token: refresh }))),
        resealRows(dataSource, secretBox, { batchSize: 3 }),
      ]);
      expect(refreshes.map((r) => r.status)).toEqual(refreshTokens.map(() => 200));
      const presented = [...refreshTokens];
      refreshes.forEach((r, i) => (refreshTokens[i] = r.body.data.tokens.refresh_token as string));
      // Each session's sealed token is its current one (the refresh's), under the current key and the token that
      // refresh presented (the outer seal is what reseal rewrites).
      const byHash = new Map((await sessions()).map((row) => [row.refresh_token_hash, row]));
      const current = new AesGcmSecretBox(keyB);
      const mismatched = refreshTokens.filter((token, i) => {
        const row = byHash.get(sha256(token));
        return !row || current.openUnder(row.sealed_refresh_token, SEALED.refreshToken(row.id), presented[i]!) !== token;
      });
      expect({ round, mismatched: mismatched.length }).toEqual({ round, mismatched: 0 });
    }
    // The first test's unopenable session is still there: the rest is current.
    const last = await reseal(app().app.infra);
    expect(last.sessions).toEqual({ resealed: 0, current: expect.any(Number), unopenable: 1 });
    expect(last.sessions.current).toBeGreaterThanOrEqual(refreshTokens.length);
  }, 120_000);
});
