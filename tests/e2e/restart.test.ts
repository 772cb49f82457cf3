import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signUp, startTestApp } from '../support/app';

describe('embedded mode across a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-restart-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps users, sessions and signing keys: a token issued before the restart validates after it', async () => {
    const first = await startTestApp({ dataDir });
    const { tokens, user } = await signUp(first, 'restart@example.com');
    const jwksBefore = (await first.http.get('/.well-known/jwks.json').expect(200)).body;
    await first.stop();

    const second = await startTestApp({ dataDir });
    try {
      const validate = await second.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${tokens.access_token}`);
      expect(validate.status).toBe(200);
      expect(validate.body.data).toMatchObject({ valid: true, user: { id: user.id, email: 'restart@example.com' } });
      const jwksAfter = (await second.http.get('/.well-known/jwks.json').expect(200)).body;
      expect(jwksAfter).toEqual(jwksBefore);
      const refresh = await second.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token });
      expect(refresh.status).toBe(200);
    } finally {
      await second.stop();
    }
  }, 60_000);
});
