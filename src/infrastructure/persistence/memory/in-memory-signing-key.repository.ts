import type { SigningKeyRecord, SigningKeyRepository, SigningKeyTransaction } from '@application/ports/signing-keys';
import type { UnitOfWork } from '@application/ports/unit-of-work';

/**
 * Keeps the port's semantics: upsert by kid (an update keeps the declared token TTL), listed oldest first (then by
 * kid), and copies in and out so callers never share mutable state.
 */
export class InMemorySigningKeyRepository implements SigningKeyRepository {
  private readonly keys = new Map<string, SigningKeyRecord>();

  async list(): Promise<SigningKeyRecord[]> {
    return [...this.keys.values()]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0))
      .map(copy);
  }

  async save(key: SigningKeyRecord): Promise<void> {
    const stored = this.keys.get(key.kid);
    // As the SQL adapter: an update changes the status and its times only; the key material and the declared TTL
    // (only declareTokenTtl raises it) stay as stored.
    const { status, activatedAt, retiredAt } = copy(key);
    this.keys.set(key.kid, stored ? { ...stored, status, activatedAt, retiredAt } : copy(key));
  }

  async declareTokenTtl(kid: string, seconds: number): Promise<void> {
    const stored = this.keys.get(kid);
    if (stored && stored.maxTokenTtlSeconds !== null && stored.maxTokenTtlSeconds < seconds) stored.maxTokenTtlSeconds = seconds;
  }

  async delete(kid: string): Promise<void> {
    this.keys.delete(kid);
  }

  /**
   * SigningKeyTransaction on these keys: `uow`'s run(), one at a time with every other transaction of it (its audit
   * log the entries' table), and these keys put back as they were when the work throws.
   */
  transaction(uow: UnitOfWork): SigningKeyTransaction {
    return (work) =>
      uow.run(async (repos) => {
        const before = new Map([...this.keys].map(([kid, key]) => [kid, copy(key)]));
        try {
          return await work(this, repos.audit);
        } catch (error) {
          this.keys.clear();
          for (const [kid, key] of before) this.keys.set(kid, key);
          throw error;
        }
      });
  }
}

function copy(key: SigningKeyRecord): SigningKeyRecord {
  return {
    ...key,
    publicJwk: { ...key.publicJwk },
    createdAt: new Date(key.createdAt.getTime()),
    activatedAt: key.activatedAt ? new Date(key.activatedAt.getTime()) : null,
    retiredAt: key.retiredAt ? new Date(key.retiredAt.getTime()) : null,
  };
}
