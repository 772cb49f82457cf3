import { Writable } from 'node:stream';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { type TestApp, MODES, NO_LIMITS, startSecureApp } from '../support/app';
import { basic, createClient, form } from '../support/oauth';

/** No client secret, Basic credential or issued token in any log line, whatever the request's outcome. */
describe.each(MODES)('OAuth secrets stay out of the logs (%s)', (mode) => {
  let t: TestApp;
  const lines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')), done()) });
    t = await startSecureApp(mode, NO_LIMITS, { logger: createLogger('debug', sink) });
  }, 60_000);
  afterAll(async () => t?.stop());

  it('logs requests to /oauth/* without client secrets, Authorization values or tokens', async () => {
    const client = await createClient(t);
    const header = basic(client);
    lines.length = 0;
    const issued = await t.http.post('/oauth/token').set('Authorization', header).type('form').send('grant_type=client_credentials').expect(200);
    await t.http.post('/oauth/token').type('form').send(form({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret })).expect(200);
    await t.http.post('/oauth/token').send({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }).expect(200);
    await t.http.post('/oauth/token').set('Authorization', header).send({ grant_type: 'client_credentials', client_secret: client.secret }).expect(400);
    await t.http.post('/oauth/token').send({ grant_type: 'nope', client_id: client.id, client_secret: client.secret }).expect(400);
    await t.http.post('/oauth/token').send({ grant_type: 'client_credentials', client_id: client.id, client_secret: `${client.secret}x` }).expect(401);
    await t.http.post('/oauth/introspect').set('Authorization', header).type('form').send(form({ token: issued.body.access_token })).expect(200);
    await t.http.post('/oauth/revoke').set('Authorization', header).type('form').send(form({ token: issued.body.access_token })).expect(200);
    expect(lines.length).toBeGreaterThan(0);
    const text = lines.join('\n');
    for (const secret of [client.secret, header.slice('Basic '.length), issued.body.access_token as string]) expect(text).not.toContain(secret);
    const [{ secret_hash: digest }] = (await t.app.infra.dataSource.query('SELECT secret_hash FROM clients WHERE id = $1', [client.id])) as { secret_hash: string }[];
    expect(digest).toMatch(/^hmac-sha256\.v1\./);
    expect(digest).not.toContain(client.secret);
    expect(text).not.toContain(digest.slice('hmac-sha256.v1.'.length));
  });
});
