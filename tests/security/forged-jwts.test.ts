import { createHmac, createPublicKey } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { type TestApp, MODES, NO_RATE_LIMITS, startSecureApp } from '../support/app';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const segments = (jwt: string) => jwt.split('.') as [string, string, string];
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/** CONTRACT §4: every check /auth/validate and /users/me make, attacked one at a time through HTTP. */
describe.each(MODES)('forged and misused tokens (%s)', (mode) => {
  let t: TestApp;
  let genuine: string;
  let refreshToken: string;
  let verificationToken: string;

  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
    const email = 'victim@example.com';
    await t.http.post('/api/v1/auth/register').send({ email, password: 'correct horse battery staple' }).expect(202);
    await t.waitForMail(email);
    verificationToken = t.lastMailedToken(email);
    await t.http.post('/api/v1/auth/verify').send({ token: verificationToken }).expect(200);
    const login = await t.http.post('/api/v1/auth/login').send({ email, password: 'correct horse battery staple' }).expect(200);
    ({ access_token: genuine, refresh_token: refreshToken } = login.body.data.tokens);
  }, 60_000);
  afterAll(async () => t?.stop());

  async function expectRejected(token: string) {
    for (const path of ['/api/v1/auth/validate', '/api/v1/users/me']) {
      const response = await t.http.get(path).set('Authorization', `Bearer ${token}`);
      expect({ path, status: response.status, code: response.body.error?.code }).toEqual({ path, status: 401, code: 'INVALID_TOKEN' });
      expect(response.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    }
  }

  const header = () => decode(segments(genuine)[0]);
  const claims = () => decode(segments(genuine)[1]) as JWTPayload;
  const nowSeconds = () => Math.floor(t.clock.now().getTime() / 1000);

  /** Signed with the service's own active private key: only the one property under test is wrong. */
  async function withRealKey(headerChanges: Record<string, unknown>, claimChanges: JWTPayload = {}) {
    const key = t.app.infra.keys.activeKey();
    return new SignJWT({ ...claims(), ...claimChanges })
      .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...headerChanges } as { alg: string })
      .sign(key.privateKey);
  }

  it('accepts the genuine token and one re-signed with the real key unchanged (controls)', async () => {
    await t.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${genuine}`).expect(200);
    await t.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${await withRealKey({})}`).expect(200);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s, with and without a signature part', async (alg) => {
    const unsigned = `${b64({ ...header(), alg })}.${segments(genuine)[1]}`;
    await expectRejected(`${unsigned}.`);
    await expectRejected(`${unsigned}.${segments(genuine)[2]}`);
  });

  it('HS256 with the public key as the HMAC secret (JWK JSON, x, PEM)', async () => {
    const jwks = (await t.http.get('/.well-known/jwks.json')).body as { keys: Record<string, string>[] };
    const jwk = jwks.keys.find((k) => k.kid === header().kid)!;
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    const forgedHeader = b64({ ...header(), alg: 'HS256' });
    for (const secret of [JSON.stringify(jwk), jwk.x!, pem]) {
      const signature = createHmac('sha256', secret).update(`${forgedHeader}.${segments(genuine)[1]}`).digest('base64url');
      await expectRejected(`${forgedHeader}.${segments(genuine)[1]}.${signature}`);
    }
  });

  it.each([
    ['unknown', 'no-such-key'],
    ['path traversal', '../../../../../../dev/null'],
    ['SQL', "' OR '1'='1' --"],
    ['CR/LF', 'kid\r\nX-Injected: yes'],
    ['oversized', 'k'.repeat(10_000)],
    ['empty', ''],
  ])('kid: %s, signed with the real key', async (_name, kid) => {
    await expectRejected(await withRealKey({ kid }));
  });

  it('jwk, jku, x5u and x5c headers: with an attacker key, and even with the real key', async () => {
    const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: 'attacker' };
    const choosing = [
      { jwk: attackerJwk },
      { jku: 'https://attacker.example/jwks.json' },
      { x5u: 'https://attacker.example/cert.pem' },
      { x5c: ['MIIBfake'] },
    ];
    for (const extra of choosing) {
      const byAttacker = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'attacker', ...extra })
        .sign(attacker.privateKey);
      await expectRejected(byAttacker);
      await expectRejected(await withRealKey(extra));
    }
  });

  it('expired (beyond the 60 s tolerance) and not yet valid (nbf, iat in the future)', async () => {
    await expectRejected(await withRealKey({}, { iat: nowSeconds() - 3600, nbf: nowSeconds() - 3600, exp: nowSeconds() - 61 }));
    await expectRejected(await withRealKey({}, { nbf: nowSeconds() + 300, exp: nowSeconds() + 900 }));
    await expectRejected(await withRealKey({}, { iat: nowSeconds() + 300, nbf: nowSeconds(), exp: nowSeconds() + 900 }));
  });

  it.each([
    ['issuer', {}, { iss: 'https://evil.example.com' }],
    ['audience', {}, { aud: 'another-api' }],
    ['typ JWT', { typ: 'JWT' }, {}],
    ['typ missing', { typ: undefined }, {}],
    ['subject of another user', {}, { sub: '00000000-0000-4000-8000-000000000000' }],
    ['session of nobody', {}, { sid: '00000000-0000-4000-8000-000000000000' }],
  ] as const)('a wrong %s, signed with the real key', async (_name, headerChanges, claimChanges) => {
    await expectRejected(await withRealKey(headerChanges, claimChanges));
  });

  it('a refresh token or an email-verification token used as a bearer token', async () => {
    await expectRejected(refreshToken);
    await expectRejected(verificationToken);
  });

  it('still serves the genuine token after all of that', async () => {
    await t.http.get('/api/v1/users/me').set('Authorization', `Bearer ${genuine}`).expect(200);
  });
});
