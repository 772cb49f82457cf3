/**
 * Example service behind auth-service, using only the SDK (`auth-service/sdk`):
 * - `GET /orders`: users only (offline JWT check through the JWKS);
 * - `POST /orders`: users only, checked online (introspection when configured, so a logged-out session is
 *   refused at once); it reserves stock at the inventory service, calling it with its own client-credentials
 *   token from a ServiceTokenSource (one token for every concurrent request, renewed before it expires);
 * - `GET /admin/orders`: role `admin`.
 *
 *   AUTH_URL=http://127.0.0.1:3000 CLIENT_ID=... CLIENT_SECRET=... INVENTORY_URL=http://127.0.0.1:4002 \
 *     PORT=4001 node dist/examples/sdk-service/orders.js
 */
import Koa from 'koa';
import { AuthError, createTokenVerifier, ServiceTokenSource, type AuthState, type IntrospectionOptions } from 'auth-service/sdk';
import { expectedIssuer } from './issuer';

export interface OrdersConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** This service's client at auth-service (`npm run cli -- create-client --scopes "inventory:reserve"`). */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  inventoryUrl: string;
  /** Online checks for POST /orders; without it, POST is checked offline like GET. */
  introspectionUrl?: string;
}

export function createOrdersService(config: OrdersConfig): Koa<AuthState> {
  const introspection: IntrospectionOptions | undefined = config.introspectionUrl
    ? { url: config.introspectionUrl, clientId: config.clientId, clientSecret: config.clientSecret }
    : undefined;
  const verifier = createTokenVerifier({ issuer: config.issuer, audience: config.audience, jwksUrl: config.jwksUrl, introspection });
  const serviceTokens = new ServiceTokenSource({ tokenUrl: config.tokenUrl, clientId: config.clientId, clientSecret: config.clientSecret, scope: 'inventory:reserve' });
  const orders: Array<{ id: number; owner: string; reservation: number }> = [];

  const users = verifier.middleware({ roles: ['user'] });
  const usersOnline = verifier.middleware({ roles: ['user'], online: introspection !== undefined });
  const admins = verifier.middleware({ roles: ['admin'] });

  const app = new Koa<AuthState>();
  app.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/orders') {
      return users(ctx, async () => {
        ctx.body = { orders: orders.filter((o) => o.owner === ctx.state.auth.subject) };
      });
    }
    if (ctx.method === 'POST' && ctx.path === '/orders') {
      return usersOnline(ctx, async () => {
        const reservation = await reserve(serviceTokens, config.inventoryUrl);
        const order = { id: orders.length + 1, owner: ctx.state.auth.subject, reservation };
        orders.push(order);
        ctx.status = 201;
        ctx.body = { order };
      });
    }
    if (ctx.method === 'GET' && ctx.path === '/admin/orders') {
      return admins(ctx, async () => void (ctx.body = { orders }));
    }
    await next();
  });
  return app;
}

/**
 * Calls the inventory with this service's own token; a refused token is dropped and asked for once more. The refused
 * token is passed to invalidate(): a 401 to a token already replaced (concurrent requests) leaves the new one alone.
 */
async function reserve(tokens: ServiceTokenSource, inventoryUrl: string): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    const token = await tokens.getToken();
    const response = await fetch(`${inventoryUrl}/reservations`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    if (response.status === 401 && attempt === 0) {
      await response.arrayBuffer().catch(() => undefined);
      tokens.invalidate(token);
      continue;
    }
    if (response.status !== 201) throw new AuthError('UPSTREAM_REFUSED', 502, `inventory answered ${response.status}`);
    return ((await response.json()) as { reservation: number }).reservation;
  }
}

if (require.main === module) {
  const auth = process.env.AUTH_URL ?? 'http://127.0.0.1:3000';
  main(auth).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}

async function main(auth: string): Promise<void> {
  createOrdersService({
    issuer: await expectedIssuer(auth, process.env.AUTH_ISSUER),
    audience: process.env.AUTH_AUDIENCE ?? 'auth-service',
    jwksUrl: `${auth}/.well-known/jwks.json`,
    tokenUrl: `${auth}/oauth/token`,
    introspectionUrl: `${auth}/oauth/introspect`,
    clientId: process.env.CLIENT_ID ?? '',
    clientSecret: process.env.CLIENT_SECRET ?? '',
    inventoryUrl: process.env.INVENTORY_URL ?? 'http://127.0.0.1:4002',
  }).listen(Number(process.env.PORT ?? 4001));
}
