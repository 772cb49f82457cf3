import type { Server } from 'node:http';
import request from 'supertest';
import { createInventoryService } from '../../examples/sdk-service/inventory';
import { createOrdersService } from '../../examples/sdk-service/orders';
import { signUp, startSecureApp, NO_RATE_LIMITS, type TestApp } from '../support/app';
import { OAuthPeer, PEER_AUDIENCE, PEER_ISSUER } from '../support/oauth-peer';

/**
 * examples/sdk-service: the orders API (users, through the SDK middleware, against the real service's JWKS)
 * calling the inventory API (services, by scope) with a ServiceTokenSource. Until /oauth/token is merged,
 * the client-credentials tokens come from the local RFC 6749 peer and the inventory trusts the peer's JWKS;
 * after the merge, point tokenUrl and the inventory's issuer/JWKS at the service (one issuer for both).
 */
describe('example service protected by the SDK', () => {
  let t: TestApp;
  let peer: OAuthPeer;
  let inventory: Server;
  let orders: ReturnType<typeof request>;
  const client = { id: 'orders-service', secret: 'orders-service-secret', scopes: ['inventory:reserve'] };

  beforeAll(async () => {
    t = await startSecureApp('embedded', NO_RATE_LIMITS);
    const authBase = `http://127.0.0.1:${await t.app.listen()}`;
    peer = await new OAuthPeer().start();
    peer.clients.push(client);
    inventory = createInventoryService({ issuer: PEER_ISSUER, audience: PEER_AUDIENCE, jwksUrl: peer.jwksUrl }).listen(0, '127.0.0.1');
    await new Promise((resolve) => inventory.once('listening', resolve));
    const address = inventory.address();
    const inventoryUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const app = createOrdersService({
      issuer: 'https://auth.example.com',
      audience: 'example-api',
      jwksUrl: `${authBase}/.well-known/jwks.json`,
      tokenUrl: peer.tokenUrl,
      clientId: client.id,
      clientSecret: client.secret,
      inventoryUrl,
    });
    orders = request(app.callback());
  }, 60_000);
  afterAll(async () => {
    inventory?.closeAllConnections();
    await new Promise((resolve) => (inventory ? inventory.close(resolve) : resolve(undefined)));
    await peer?.stop();
    await t?.stop();
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
    expect(peer.requests('/oauth/token')).toBe(1);
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
    const user = await reserve(await peer.userToken());
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    // A service token without inventory:reserve.
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'orders', client_secret: peer.clients[0]!.secret });
    const other = (await (await fetch(peer.tokenUrl, { method: 'POST', body: form })).json()) as { access_token: string };
    expect((await reserve(other.access_token)).status).toBe(403);
  });
});
