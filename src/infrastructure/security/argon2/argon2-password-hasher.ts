import * as argon2 from 'argon2';
import type { PasswordHasher } from '@application/ports/password-hasher';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * At most `limit` hashes run at once; the rest wait their turn in order. argon2 runs on libuv's thread pool
 * (4 threads by default): left alone, four 19 MiB hashes run at once on a 2-core machine, no faster than two,
 * and every other pool job (WebCrypto's JWT signing and verifying, DNS lookups) queues behind them.
 */
export class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await job();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight on
      else this.running -= 1;
    }
  }
}

/** OWASP's minimum for argon2id (CONTRACT §5); raise m/t/p in config, never below these. */
export const DEFAULT_ARGON2_PARAMS: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

const ARGON2_VERSION = 0x13;
const PHC = /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/** argon2id with PHC strings, so parameters travel with each hash and can be raised over time. */
export class Argon2PasswordHasher implements PasswordHasher {
  private readonly params: Argon2Params;
  private readonly gate: Gate;
  private dummyHash: Promise<string> | undefined;

  /** `concurrency`: hashes and verifies at once (ARGON2_CONCURRENCY, default the core count). */
  constructor(params: Partial<Argon2Params> & { concurrency?: number } = {}) {
    const { concurrency, ...argon2Params } = params;
    this.params = { ...DEFAULT_ARGON2_PARAMS, ...argon2Params };
    this.gate = new Gate(Math.max(1, concurrency ?? Number.POSITIVE_INFINITY));
  }

  hash(plain: string): Promise<string> {
    return this.gate.run(() => argon2.hash(plain, { type: argon2.argon2id, ...this.params }));
  }

  async verify(hash: string, plain: string): Promise<boolean> {
    // A corrupt or foreign hash in the database must read as "wrong password", never as a 500.
    if (typeof hash !== 'string' || !PHC.test(hash)) return false;
    try {
      return await this.gate.run(() => argon2.verify(hash, plain));
    } catch {
      return false;
    }
  }

  needsRehash(hash: string): boolean {
    const match = PHC.exec(hash);
    if (!match) return true;
    const [, type, version, m, t, p] = match;
    // argon2.needsRehash ignores the variant, so an old argon2i hash would never be upgraded; compare ourselves.
    return (
      type !== 'argon2id' ||
      Number(version) !== ARGON2_VERSION ||
      Number(m) !== this.params.memoryCost ||
      Number(t) !== this.params.timeCost ||
      Number(p) !== this.params.parallelism
    );
  }

  async verifyDummy(plain: string): Promise<void> {
    // Made with the current parameters so an unknown account costs exactly what a wrong password costs;
    // the promise is cached so concurrent first calls share one hash.
    this.dummyHash ??= this.hash('dummy-password-for-unknown-accounts');
    await this.verify(await this.dummyHash, plain);
  }
}
