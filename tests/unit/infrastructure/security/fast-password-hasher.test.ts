import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';
import { fastPasswordHasher } from '../../../support/kit';

/** The unit tests' hasher is the real adapter: what it accepts and refuses is what production accepts and refuses. */
describe('the fast password hasher of the unit tests', () => {
  const hasher = fastPasswordHasher();

  it('verifies the right password only, and reads a foreign or corrupt hash as a wrong password', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=8,t=1,p=1\$/);
    await expect(hasher.verify(hash, 'correct horse battery staple')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'Correct horse battery staple')).resolves.toBe(false);
    await expect(hasher.verify('not-a-hash', 'correct horse battery staple')).resolves.toBe(false);
    await expect(hasher.verifyDummy('anything')).resolves.toBeUndefined();
  });

  it('asks for a rehash of a hash made with other parameters, both ways', async () => {
    const production = new Argon2PasswordHasher();
    const productionHash = await production.hash('pw');
    const fastHash = await hasher.hash('pw');
    expect(hasher.needsRehash(fastHash)).toBe(false);
    expect(hasher.needsRehash(productionHash)).toBe(true);
    expect(production.needsRehash(fastHash)).toBe(true);
    await expect(hasher.verify(productionHash, 'pw')).resolves.toBe(true); // parameters travel with the hash
  });

  // By the work its parameters ask (memory x passes, read from the hashes themselves), not by a stopwatch: a timed
  // comparison failed now and then while other suites loaded the two cores.
  it('is much cheaper than the production parameters', async () => {
    const work = (hash: string) => {
      const [, m, t] = /\$m=(\d+),t=(\d+),p=\d+\$/.exec(hash)!;
      return Number(m) * Number(t);
    };
    const fast = work(await hasher.hash('pw'));
    const production = work(await new Argon2PasswordHasher().hash('pw'));
    expect(fast * 1000).toBeLessThan(production);
  });
});
