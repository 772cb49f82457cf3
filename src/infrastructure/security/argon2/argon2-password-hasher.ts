import * as argon2 from 'argon2';
import type { PasswordHasher } from '@application/ports/password-hasher';
import { DEFAULT_QUEUE_TIMEOUT_MS, Gate } from '../gate';

// The gate was born here and moved to ../gate when the strength estimator took one too; its names stay importable from here.
export {
  DEFAULT_QUEUE_TIMEOUT_MS,
  GATE_REFUSALS,
  Gate,
  type GateBounds,
  type GateRefusal,
  HASHING_BUSY_RETRY_AFTER_SECONDS,
  QUEUE_LENGTH_PER_SLOT,
} from '../gate';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP's minimum for argon2id (CONTRACT §5); raise m/t/p in config, never below these. */
export const DEFAULT_ARGON2_PARAMS: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

const ARGON2_VERSION = 0x13;
const PHC = /^\$(argon2(?:id|i|d))\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

export interface Argon2HasherOptions extends Partial<Argon2Params> {
  /** Hashes and verifies at once (ARGON2_CONCURRENCY, default the core count). */
  concurrency?: number;
  /** The longest wait for a slot (ARGON2_QUEUE_TIMEOUT, default DEFAULT_QUEUE_TIMEOUT_MS). */
  queueTimeoutMs?: number;
}

/**
 * argon2id with PHC strings, so parameters travel with each hash and can be raised over time. A hash or verify
 * refused by the gate (waited too long, the queue full, or its caller's signal aborted before its turn) throws
 * SERVICE_UNAVAILABLE (503, Retry-After) without hashing: never "wrong password", so it counts toward no lockout.
 */
export class Argon2PasswordHasher implements PasswordHasher {
  private readonly params: Argon2Params;
  /** Public for the tests, which hold its slots to see refusals through the whole service. */
  readonly gate: Gate;
  private dummyHash: Promise<string> | undefined;

  constructor(options: Argon2HasherOptions = {}) {
    const { concurrency, queueTimeoutMs, ...argon2Params } = options;
    this.params = { ...DEFAULT_ARGON2_PARAMS, ...argon2Params };
    this.gate = new Gate(Math.max(1, concurrency ?? Number.POSITIVE_INFINITY), { maxWaitMs: queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS });
  }

  hash(plain: string, signal?: AbortSignal): Promise<string> {
    return this.gate.run(() => argon2.hash(plain, { type: argon2.argon2id, ...this.params }), signal);
  }

  verify(hash: string, plain: string, signal?: AbortSignal): Promise<boolean> {
    // A corrupt or foreign hash in the database must read as "wrong password", never as a 500; the gate's
    // refusal is no verdict on the password and propagates (503).
    if (typeof hash !== 'string' || !PHC.test(hash)) return Promise.resolve(false);
    return this.gate.run(async () => {
      try {
        return await argon2.verify(hash, plain);
      } catch {
        return false;
      }
    }, signal);
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

  /**
   * Makes the dummy hash now (the service's start), so that the first unknown-account login costs one verify as a
   * wrong password does, not a hash and a verify: until stop 51 the first one per process took about twice as long,
   * a fresh sample on each start (a review of stop 50). Resolves either way: a refused one is made on first use.
   */
  async warmUp(): Promise<void> {
    await this.dummy().catch(() => undefined);
  }

  async verifyDummy(plain: string, signal?: AbortSignal): Promise<void> {
    await this.verify(await this.dummy(), plain, signal);
  }

  private dummy(): Promise<string> {
    // Made with the current parameters so an unknown account costs exactly what a wrong password costs;
    // the promise is cached so concurrent first calls share one hash. A refused one is forgotten, or every
    // later unknown account would be refused with it. Shared, it is made without the caller's signal: one
    // caller leaving must not refuse the others waiting for it.
    if (this.dummyHash === undefined) {
      const made = this.hash('dummy-password-for-unknown-accounts');
      this.dummyHash = made;
      made.catch(() => {
        if (this.dummyHash === made) this.dummyHash = undefined;
      });
    }
    return this.dummyHash;
  }
}
