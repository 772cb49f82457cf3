/**
 * Example downstream service: answers other services only, on their client-credentials tokens and scopes.
 * `POST /reservations` needs a service token with scope `inventory:reserve`.
 *
 *   AUTH_URL=http://127.0.0.1:3000 PORT=4002 node dist/examples/sdk-service/inventory.js
 */
import Koa from 'koa';
import { createTokenVerifier, type AuthState } from 'auth-service/sdk';
import { expectedIssuer } from './issuer';

export interface InventoryConfig {
  /** auth-service's token settings (JWT_ISSUER, JWT_AUDIENCE) and its JWKS. */
  issuer: string;
  audience: string;
  jwksUrl: string;
}

export function createInventoryService(config: InventoryConfig): Koa<AuthState> {
  const verifier = createTokenVerifier(config);
  const app = new Koa<AuthState>();
  let reserved = 0;
  app.use(verifier.middleware({ scopes: ['inventory:reserve'] }));
  app.use((ctx) => {
    if (ctx.method !== 'POST' || ctx.path !== '/reservations') return void (ctx.status = 404);
    reserved += 1;
    ctx.status = 201;
    ctx.body = { reservation: reserved, reserved_by: ctx.state.auth.subject };
  });
  return app;
}

if (require.main === module) {
  const auth = process.env.AUTH_URL ?? 'http://127.0.0.1:3000';
  main(auth).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}

async function main(auth: string): Promise<void> {
  createInventoryService({
    issuer: await expectedIssuer(auth, process.env.AUTH_ISSUER),
    audience: process.env.AUTH_AUDIENCE ?? 'auth-service',
    jwksUrl: `${auth}/.well-known/jwks.json`,
  }).listen(Number(process.env.PORT ?? 4002));
}
