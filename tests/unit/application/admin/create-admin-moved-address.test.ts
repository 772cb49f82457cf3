import type { Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import { createKit } from '../support/test-kit';

/**
 * A review (2026-12-07): create-admin looked up the account with the address, then locked it by id. An address change
 * of that account confirmed in between (its transaction held the lock) moved it away, and the command promoted it
 * all the same, an account no longer at the address the operator named, and said `created: false`. The account under
 * the lock must still hold the address.
 */
describe('CreateAdmin: the account leaves the address between the look-up and the lock', () => {
  it('the moved account is not promoted; the address, free now, gets a new admin', async () => {
    const kit = await createKit();
    const owner = await kit.registerVerified('ops@example.com');
    const uow = kit.uow as UnitOfWork;
    const run = uow.run.bind(uow);
    let moved = false;
    // The owner's confirmed change to another address commits right after the command's first look-up.
    uow.run = (<T>(work: (repos: Repositories) => Promise<T>) =>
      run((repos) => {
        const users = new Proxy(repos.users, {
          get: (target, prop, receiver) => {
            if (prop !== 'findByEmail') return Reflect.get(target, prop, receiver) as unknown;
            return async (address: string) => {
              const found = await target.findByEmail(address);
              if (!moved && found?.id === owner.id) {
                moved = true;
                kit.overwriteUser({ ...found.toState(), email: 'elsewhere@example.com', pendingEmail: null });
              }
              return found;
            };
          },
        });
        return work({ ...repos, users });
      })) as UnitOfWork['run'];

    const result = await kit.useCases.CreateAdmin.execute({ email: 'ops@example.com', password: 'a long enough admin passphrase' });
    expect(moved).toBe(true);
    expect({ created: result.created, email: result.user.email, roles: result.user.roles }).toEqual({ created: true, email: 'ops@example.com', roles: ['user', 'admin'] });
    expect(result.user.id).not.toBe(owner.id);
    const left = await kit.repos.users.findById(owner.id);
    expect({ email: left?.email, roles: left?.roles }).toEqual({ email: 'elsewhere@example.com', roles: ['user'] });
  });
});
