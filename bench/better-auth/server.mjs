/**
 * Better Auth on PostgreSQL, for the side-by-side of `npm run bench:better-auth` (bench/side-by-side.ts).
 * `node bench/better-auth/server.mjs` with DATABASE_URL (a scratch database the caller owns): creates Better
 * Auth's tables (its own migration planner), listens on a free port of 127.0.0.1 and sends it to the parent
 * (IPC) once listening.
 *
 * The configuration a Better Auth user with the same features would write, tuned in Better Auth's favour where
 * a choice is ours to make:
 *  - email and password sign-up and sign-in (its default hash: scrypt), no email verification (the service's
 *    bench runs with REQUIRE_EMAIL_VERIFICATION=false);
 *  - the `bearer` plugin (sessions by Authorization header, as the service's clients send their tokens) and the
 *    `jwt` plugin (`GET /api/auth/token`: a signed JWT for the current session; `GET /api/auth/jwks`);
 *  - its rate limiter off (the service's bench sets quotas no run reaches);
 *  - `disableSettingJwtHeader`: get-session does not sign a JWT into a response header on every call (the
 *    plugin's default does), so get-session is measured as the plain session check it is compared with.
 * Its pg pool has the service's default size (DATABASE_POOL_SIZE, 10).
 */
import { createServer } from 'node:http';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { bearer } from 'better-auth/plugins/bearer';
import { jwt } from 'better-auth/plugins/jwt';
import pg from 'pg';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error('DATABASE_URL is required');

const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
const server = createServer();
server.listen(0, '127.0.0.1', async () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseURL = `http://127.0.0.1:${port}`;
  const auth = betterAuth({
    baseURL,
    secret: process.env.BETTER_AUTH_SECRET ?? 'side-by-side bench secret, not for anything else',
    database: pool,
    emailAndPassword: { enabled: true, requireEmailVerification: false, autoSignIn: true },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    plugins: [bearer(), jwt({ disableSettingJwtHeader: true })],
  });
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  server.on('request', toNodeHandler(auth));
  if (process.send) process.send({ port });
  else process.stdout.write(`${baseURL}\n`);
});

const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('disconnect', stop);
