/**
 * `npm run bench:reseal`: how long `reseal` (docs/key-rotation.md) takes, on DATABASE_URL's server (a scratch
 * database, dropped at the end). Seeds BENCH_RESEAL_ROWS (100,000) users, one session each with its refresh token
 * sealed under an old key, and a TOTP secret for one user in ten, by bulk INSERT (never through the API); then runs
 * `resealRows` with the new key current and the old one previous, and once more with everything current (what a
 * second run costs). Prints the seeding time, both runs' times and rows per second.
 */
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import { SEALED } from '../src/application/ports/secret-box';
import { createDataSource, runMigrations } from '../src/infrastructure/persistence/typeorm/data-source';
import { type ResealCounts, resealRows } from '../src/infrastructure/persistence/typeorm/reseal';
import { AesGcmSecretBox } from '../src/infrastructure/security/crypto/aes-gcm-secret-box';
import { envNumber, scratchDatabase } from './harness';

const ROWS = envNumber('BENCH_RESEAL_ROWS', 100_000);
const CHUNK = 10_000;

/** Row g's id, the same in SQL (md5(...)::uuid) and here. */
function uuidOf(kind: string, g: number): string {
  const hex = createHash('md5').update(`reseal-${kind}-${g}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function main(): Promise<void> {
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('bench:reseal needs DATABASE_URL (a PostgreSQL server; a scratch database is made there)');
  const scratch = await scratchDatabase(server);
  const dataSource = createDataSource({ url: scratch.url, poolSize: 4, preparedStatements: false });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const old = new AesGcmSecretBox(oldKey);

    const seedStart = performance.now();
    for (let from = 1; from <= ROWS; from += CHUNK) {
      const to = Math.min(ROWS, from + CHUNK - 1);
      const users: string[] = [];
      const sessions: string[] = [];
      const sealedTokens: string[] = [];
      const totpUsers: string[] = [];
      const sealedSecrets: string[] = [];
      for (let g = from; g <= to; g++) {
        const user = uuidOf('user', g);
        const session = uuidOf('session', g);
        users.push(user);
        sessions.push(session);
        sealedTokens.push(old.seal(randomBytes(32).toString('base64url'), SEALED.refreshToken(session)));
        if (g % 10 === 0) {
          totpUsers.push(user);
          sealedSecrets.push(old.seal(randomBytes(20).toString('hex'), SEALED.totpSecret(user)));
        }
      }
      await dataSource.query(
        `INSERT INTO users (id, email, status, email_verified, roles, mfa_enabled, failed_attempts, created_at, updated_at)
         SELECT id, 'reseal.' || id || '@example.com', 'active', true, ARRAY['user'], false, 0, now(), now() FROM unnest($1::uuid[]) AS id`,
        [users],
      );
      await dataSource.query(
        `INSERT INTO sessions (id, user_id, refresh_token_hash, sealed_refresh_token, amr, created_at, last_used_at, expires_at, absolute_expires_at)
         SELECT s.id, s.user_id, md5(s.id::text), s.sealed, ARRAY['pwd'], now(), now(), now() + interval '7 days', now() + interval '30 days'
         FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS s(id, user_id, sealed)`,
        [sessions, users, sealedTokens],
      );
      await dataSource.query(
        `INSERT INTO user_credentials (user_id, type, secret, data, created_at, updated_at)
         SELECT t.user_id, 'totp', t.sealed, jsonb_build_object('confirmed_at', now(), 'created_at', now()), now(), now()
         FROM unnest($1::uuid[], $2::text[]) AS t(user_id, sealed)`,
        [totpUsers, sealedSecrets],
      );
    }
    await dataSource.query('VACUUM ANALYZE sessions');
    await dataSource.query('VACUUM ANALYZE user_credentials');
    const seedMs = performance.now() - seedStart;

    const ring = new AesGcmSecretBox(newKey, [oldKey]);
    const timed = async (): Promise<{ ms: number; counts: ResealCounts }> => {
      const start = performance.now();
      const counts = await resealRows(dataSource, ring);
      return { ms: performance.now() - start, counts };
    };
    const first = await timed();
    const second = await timed();
    const rows = (counts: ResealCounts) => counts.sessions.resealed + counts.sessions.current + counts.totpSecrets.resealed + counts.totpSecrets.current;
    const line = (label: string, run: { ms: number; counts: ResealCounts }) =>
      `${label}: ${(run.ms / 1000).toFixed(1)} s for ${rows(run.counts)} rows (${Math.round(rows(run.counts) / (run.ms / 1000))} rows/s); ` +
      `sessions ${JSON.stringify(run.counts.sessions)}, totp ${JSON.stringify(run.counts.totpSecrets)}`;
    process.stdout.write(`seeded ${ROWS} users and sessions, ${Math.floor(ROWS / 10)} TOTP secrets in ${(seedMs / 1000).toFixed(1)} s\n`);
    process.stdout.write(`${line('reseal, every value under the previous key', first)}\n`);
    process.stdout.write(`${line('reseal again, every value current', second)}\n`);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await scratch.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
