import type { Server } from 'node:http';
import request from 'supertest';
import { createInventoryService } from '../../examples/sdk-service/inventory';
import { expectedIssuer } from '../../examples/sdk-service/issuer';
import { createOrdersService } from '../../examples/sdk-service/orders';
import { signUp, startSecureApp, NO_RATE_LIMITS, type TestApp } from '../support/app';
import { createClient, type TestClient } from '../support/oauth';

/**
 * examples/sdk-service: the orders API (users, through the SDK middleware) calling the inventory API (services,
 * by scope) with a ServiceTokenSource. One issuer for both: the service, in process, with its real JWKS and
 * /oauth/token (the client registered like `npm run cli -- create-client` does).
 */
describe('example service protected by the SDK', () => {
  let t: TestApp;
  let authBase: string;
  let inventory: Server;
  let orders: ReturnType<typeof request>;
  let client: TestClient;

  /** Requests /oauth/token has answered so far, from the service's own metrics. */
  async function tokenRequests(): Promise<number> {
    const text = await (await fetch(`${authBase}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('route="/oauth/token"') && l.includes('status="200"'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  }

  beforeAll(async () => {
    t = await startSecureApp('embedded', NO_RATE_LIMITS);
    authBase = `http://127.0.0.1:${await t.app.listen()}`;
    client = await createClient(t, 'inventory:reserve', 'orders-service');
    inventory = createInventoryService({ issuer: 'https://auth.example.com', audience: 'example-api', jwksUrl: `${authBase}/.well-known/jwks.json` }).listen(0, '127.0.0.1');
    await new Promise((resolve) => inventory.once('listening', resolve));
    const address = inventory.address();
    const inventoryUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const app = createOrdersService({
      issuer: 'https://auth.example.com',
      audience: 'example-api',
      jwksUrl: `${authBase}/.well-known/jwks.json`,
      tokenUrl: `${authBase}/oauth/token`,
      clientId: client.id,
      clientSecret: client.secret,
      inventoryUrl,
    });
    orders = request(app.callback());
  }, 60_000);
  afterAll(async () => {
    inventory?.closeAllConnections();
    await new Promise((resolve) => (inventory ? inventory.close(resolve) : resolve(undefined)));
    await t?.stop();
  });

  // Stop 53 (a review following the README): started by hand, the examples took AUTH_URL for the issuer, and every
  // token of a service on its defaults (issuer http://localhost:PORT) was refused. They now read the service's metadata.
  it('started without AUTH_ISSUER, the examples expect the issuer the service states in its metadata', async () => {
    await expect(expectedIssuer(authBase, undefined)).resolves.toBe('https://auth.example.com');
    await expect(expectedIssuer(authBase, 'https://configured.example')).resolves.toBe('https://configured.example');
    await expect(expectedIssuer(`${authBase}/nowhere`, undefined)).rejects.toThrow(/answered 404: set AUTH_ISSUER/);
  });

  it('refuses callers without a token in the contract envelope', async () => {
    const response = await orders.get('/orders').expect(401);
    expect(response.headers['www-authenticate']).toBe('Bearer');
    expect(response.body).toMatchObject({ success: false, error: { code: 'UNAUTHENTICATED' } });
  });

  it('a user orders; every order reserves stock with the one shared service token', async () => {
    const { user, tokens } = await signUp(t, 'example-orders@example.com');
    const bearer = `Bearer ${tokens.access_token}`;
    await orders.get('/orders').set('Authorization', bearer).expect(200, { orders: [] });
    const first = await orders.post('/orders').set('Authorization', bearer).expect(201);
    expect(first.body.order).toMatchObject({ id: 1, owner: user.id, reservation: 1 });
    const burst = await Promise.all(Array.from({ length: 20 }, () => orders.post('/orders').set('Authorization', bearer)));
    expect(burst.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(await tokenRequests()).toBe(1);
    const mine = await orders.get('/orders').set('Authorization', bearer).expect(200);
    expect(mine.body.orders).toHaveLength(21);
    const refused = await orders.get('/admin/orders').set('Authorization', bearer).expect(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
  });

  it('the inventory answers services with the scope only, not users', async () => {
    const address = inventory.address();
    const reserve = (token: string) =>
      fetch(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/reservations`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    // A user token of the issuer the inventory trusts: authenticated, but no scope.
    const user = await reserve((await signUp(t, 'example-user@example.com')).tokens.access_token);
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    // A service token without inventory:reserve.
    const reporting = await createClient(t, 'orders:read', 'reporting');
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: reporting.id, client_secret: reporting.secret });
    const other = (await (await fetch(`${authBase}/oauth/token`, { method: 'POST', body: form })).json()) as { access_token: string };
    expect((await reserve(other.access_token)).status).toBe(403);
  });
});
