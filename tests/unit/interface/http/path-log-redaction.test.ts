import { randomBytes, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import pino from 'pino';
import { requestRecorder } from '@interface/http/lane';
import { loggedPath } from '@interface/http/middleware/request-logger';
import { buildTestApp, type LogLine, type TestApp } from './support/test-app';

/** A link token as the service issues them: 32 random bytes, 43 base64url characters. */
const token = () => randomBytes(32).toString('base64url');

describe('a secret in the path stays out of the access log (stop 52)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });

  const completed = (requestId: string) => t.logs.find((l) => l['msg'] === 'request completed' && l['request_id'] === requestId);

  it('redacts a verify token put in the path of an unknown route (a 404), and a JWT', async () => {
    const secret = token();
    await t.http().get(`/api/v1/auth/verify/${secret}`).set('X-Request-ID', 'path-token').expect(404);
    expect(completed('path-token')).toMatchObject({ method: 'GET', path: '/api/v1/auth/verify/[redacted]', status: 404 });

    const { accessToken } = (await t.seedLoggedInUser()).tokens;
    expect(accessToken.split('.')).toHaveLength(3);
    await t.http().get(`/api/v1/users/${accessToken}/profile`).set('X-Request-ID', 'path-jwt').expect(404);
    expect(completed('path-jwt')).toMatchObject({ path: '/api/v1/users/[redacted]/profile', status: 404 });

    const text = JSON.stringify(t.logs);
    expect(text).not.toContain(secret);
    for (const part of accessToken.split('.')) expect(text).not.toContain(part);
  });

  it('keeps a UUID and a route\'s own words readable', async () => {
    const id = randomUUID();
    await t.http().delete(`/api/v1/users/me/sessions/${id}`).set('X-Request-ID', 'path-uuid');
    expect(t.logs.find((l) => l['request_id'] === 'path-uuid' && l['msg'] !== undefined && 'path' in l)).toMatchObject({ path: `/api/v1/users/me/sessions/${id}` });
    expect(loggedPath('/.well-known/oauth-authorization-server')).toBe('/.well-known/oauth-authorization-server');
    expect(loggedPath('/docs/assets/swagger-ui-standalone-preset.js')).toBe('/docs/assets/swagger-ui-standalone-preset.js');
  });

  it('the lanes log the path by the same rule', () => {
    const lines: LogLine[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
    const record = requestRecorder({ resolve: () => { throw new Error('unused'); }, headers: {}, cors: false, logger });
    const secret = token();
    record('lane-1', 'GET', `/api/v1/auth/verify/${secret}`, 200, 0n /* a start time: the duration is not what this test reads */, {} as Socket, false);
    expect(lines[0]).toMatchObject({ request_id: 'lane-1', path: '/api/v1/auth/verify/[redacted]', msg: 'request completed' });
    expect(JSON.stringify(lines)).not.toContain(secret);
  });
});
