import * as argon2 from 'argon2';
import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';

async function millis(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

describe('Argon2PasswordHasher', () => {
  const hasher = new Argon2PasswordHasher();

  it('hashes with argon2id and the contract minimum parameters as a salted PHC string', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(await hasher.hash('correct horse battery staple')).not.toBe(hash);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    await expect(hasher.verify(hash, 'correct horse battery staple')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'Correct horse battery staple')).resolves.toBe(false);
    await expect(hasher.verify(hash, '')).resolves.toBe(false);
  });

  it.each([
    ['empty', ''],
    ['not a hash', 'plaintext-password'],
    ['bcrypt', '$2b$10$abcdefghijklmnopqrstuuO6VvWc2J0G8mJv3bI8m3mYg6b3n0K7C'],
    ['truncated', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ'],
    ['absurd params', '$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo'],
  ])('returns false for a malformed stored hash (%s), never throws', async (_name, stored) => {
    await expect(hasher.verify(stored, 'whatever')).resolves.toBe(false);
  });

  it('asks for a rehash when the parameters or the variant differ', async () => {
    const hash = await hasher.hash('pw-123456');
    expect(hasher.needsRehash(hash)).toBe(false);
    expect(new Argon2PasswordHasher({ memoryCost: 65536 }).needsRehash(hash)).toBe(true);
    expect(new Argon2PasswordHasher({ timeCost: 3 }).needsRehash(hash)).toBe(true);
    expect(new Argon2PasswordHasher({ parallelism: 2 }).needsRehash(hash)).toBe(true);
    const argon2i = await argon2.hash('pw-123456', { type: argon2.argon2i, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(hasher.needsRehash(argon2i)).toBe(true);
    expect(hasher.needsRehash('garbage')).toBe(true);
  });

  it('verifies hashes made with older parameters (so a rehash on login can happen)', async () => {
    const old = await new Argon2PasswordHasher({ memoryCost: 8192, timeCost: 1 }).hash('pw-123456');
    await expect(hasher.verify(old, 'pw-123456')).resolves.toBe(true);
    expect(hasher.needsRehash(old)).toBe(true);
  });

  /** A review of stop 50: the first unknown-account login per process also made the dummy hash (about twice the time). */
  it('warmUp makes the dummy hash: the first unknown-account check after it is one verify, no hash', async () => {
    const fresh = new Argon2PasswordHasher({ memoryCost: 1024, timeCost: 1 });
    await fresh.warmUp();
    // Every argon2 job runs through the hasher's gate, one run each: a hash and a verify were two.
    const jobs = jest.spyOn(fresh.gate, 'run');
    await fresh.verifyDummy('a guess');
    expect(jobs).toHaveBeenCalledTimes(1);
  });

  it('spends real argon2 work on an unknown account, comparable to a wrong password', async () => {
    const fresh = new Argon2PasswordHasher();
    await fresh.verifyDummy('warm-up'); // the first call also makes the dummy hash
    const hash = await fresh.hash('pw-123456');
    const dummy = await millis(() => fresh.verifyDummy('pw-123456'));
    const wrong = await millis(() => fresh.verify(hash, 'wrong-password'));
    expect(dummy).toBeGreaterThan(5);
    // Loose on purpose: shared CI machines are noisy; the point is "same order of magnitude", not equality.
    expect(dummy / wrong).toBeGreaterThan(0.2);
    expect(dummy / wrong).toBeLessThan(5);
  });
});
