import type { UnitOfWork } from '@application/ports/unit-of-work';
import type { WakeTargets } from '@infrastructure/persistence/after-commit';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryUnitOfWork } from '@infrastructure/persistence/memory/in-memory-unit-of-work';
import { TypeOrmUnitOfWork } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { aUser } from '../../support/mothers';
import { backends, testRepositoryOptions } from '../../support/persistence';

const CLIENT = { ip: '198.51.100.9', userAgent: 'after-commit', requestId: 'req-1' };

interface Subject {
  /** A unit of work whose writers wake the given targets. */
  uow(wake: WakeTargets): UnitOfWork;
  /** Read outside the transaction: is the user there (committed)? */
  userExists(id: string): Promise<boolean>;
  stop(): Promise<void>;
}

const subjects: { name: string; start(): Promise<Subject> }[] = [
  {
    name: 'InMemoryUnitOfWork',
    async start() {
      const db = new InMemoryDatabase();
      return {
        uow: (wake) => new InMemoryUnitOfWork(db, { ...testRepositoryOptions(), wake }),
        userExists: async (id) => db.tables.users.has(id),
        stop: async () => undefined,
      };
    },
  },
  ...backends.map((backend) => ({
    name: `TypeOrmUnitOfWork on ${backend.name}`,
    async start(): Promise<Subject> {
      const db = await backend.start();
      return {
        uow: (wake) => new TypeOrmUnitOfWork(db.dataSource, { ...testRepositoryOptions(), wake }),
        userExists: async (id) => (await db.dataSource.query('SELECT 1 FROM users WHERE id = $1', [id])).length === 1,
        stop: () => db.stop(),
      };
    },
  })),
];

/** Repositories.afterCommit and the writers' wake-ups: one contract for both adapters. */
describe.each(subjects)('after-commit list of $name', (subject) => {
  let s: Subject;
  beforeAll(async () => {
    s = await subject.start();
  });
  afterAll(async () => s?.stop());

  it('runs the callbacks in registration order once committed, before run() resolves; one registered twice runs once', async () => {
    const seen: string[] = [];
    const user = aUser();
    const second = () => void seen.push('second');
    const result = await s.uow({}).run(async (repos) => {
      repos.afterCommit(async () => {
        seen.push(`first sees the commit: ${await s.userExists(user.id)}`);
      });
      repos.afterCommit(second);
      await repos.users.add(user);
      repos.afterCommit(second);
      seen.push('work done');
      return 'result';
    });
    expect(result).toBe('result');
    expect(seen).toEqual(['work done', 'first sees the commit: true', 'second']);
  });

  it('never runs them after a rollback', async () => {
    const seen: string[] = [];
    const user = aUser();
    await expect(
      s.uow({ relay: () => void seen.push('relay') }).run(async (repos) => {
        repos.afterCommit(() => void seen.push('callback'));
        await repos.users.add(user);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(seen).toEqual([]);
    await expect(s.userExists(user.id)).resolves.toBe(false);
  });

  it('runs every callback even when one throws, then rejects with the first error; the work stays committed', async () => {
    const seen: string[] = [];
    const user = aUser();
    await expect(
      s.uow({}).run(async (repos) => {
        await repos.users.add(user);
        repos.afterCommit(() => Promise.reject(new Error('first failure')));
        repos.afterCommit(() => {
          throw new Error('second failure');
        });
        repos.afterCommit(() => void seen.push('still run'));
      }),
    ).rejects.toThrow('first failure');
    expect(seen).toEqual(['still run']);
    await expect(s.userExists(user.id)).resolves.toBe(true);
  });

  it('the writers wake what they gave work, once per transaction, after the commit; nothing else is woken', async () => {
    const woken: string[] = [];
    const wake: WakeTargets = {
      relay: () => void woken.push('relay'),
      relaySoon: () => void woken.push('relaySoon'),
      emailSender: () => void woken.push('emailSender'),
      accountRequests: () => void woken.push('accountRequests'),
    };
    const uow = s.uow(wake);
    await uow.run(async (repos) => {
      await repos.users.add(aUser()); // its event goes to the outbox
      await repos.users.add(aUser());
      expect(woken).toEqual([]);
    });
    // auth.user.registered only: a routine event, published within the relay's batch delay (relay-urgency.ts).
    expect(woken).toEqual(['relaySoon']);

    woken.length = 0;
    await uow.run(async (repos) => {
      const locked = aUser();
      locked.recordLockout(new Date(), new Date(Date.now() + 60_000)); // auth.account.locked: not routine
      await repos.users.add(locked);
    });
    expect(woken).toEqual(['relay']);

    woken.length = 0;
    await uow.run(async (repos) => {
      await repos.emails.enqueue({ to: 'a@example.com', subject: 's', text: 't', html: 'h' });
      await repos.accountRequests.add({ kind: 'verification_resend', email: 'a@example.com' }, CLIENT);
      await repos.emails.enqueue({ to: 'b@example.com', subject: 's', text: 't', html: 'h' });
    });
    expect(woken).toEqual(['emailSender', 'accountRequests']);

    woken.length = 0;
    await uow.run(async (repos) => repos.users.findById(aUser().id));
    expect(woken).toEqual([]);
  });
});
