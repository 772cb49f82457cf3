/**
 * The raw argon2id rate `npm run bench` compares login and register with: the service's own hasher
 * (Argon2PasswordHasher) with the parameters the service's configuration gives (loadConfig: ARGON2_* or the
 * defaults), in a process of its own like the service, so hashes run on libuv's thread pool
 * (UV_THREADPOOL_SIZE as the service gets it). Enough hashes are kept in flight to keep every pool thread and
 * core busy. Child mode of run.ts: `node dist/bench/argon2-rate.js <seconds> <concurrency>` reports
 * {hashesPerSecond, verifiesPerSecond, params} to the parent (IPC) or prints it.
 */
import { loadConfig } from '../src/config/env';
import { Argon2PasswordHasher } from '../src/infrastructure/security/argon2/argon2-password-hasher';

export interface Argon2Rate {
  hashesPerSecond: number;
  verifiesPerSecond: number;
  params: { memoryCost: number; timeCost: number; parallelism: number };
  concurrency: number;
}

const PASSWORD = 'bench password that is long enough';

/** Keeps `concurrency` operations in flight for `seconds`; completed operations per second. */
async function rate(seconds: number, concurrency: number, op: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(seconds * 1e9));
  let done = 0;
  const lane = async () => {
    while (process.hrtime.bigint() < deadline) {
      await op();
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return Math.round((done / elapsed) * 10) / 10;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const concurrency = Number(process.argv[3] ?? 8);
  const params = loadConfig(process.env).argon2;
  const hasher = new Argon2PasswordHasher(params);
  const hash = await hasher.hash(PASSWORD); // also warms the pool up
  const hashesPerSecond = await rate(seconds, concurrency, () => hasher.hash(PASSWORD));
  const verifiesPerSecond = await rate(seconds, concurrency, () => hasher.verify(hash, PASSWORD));
  const result: Argon2Rate = { hashesPerSecond, verifiesPerSecond, params, concurrency };
  if (process.send) process.send(result);
  else process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`argon2 rate failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
