import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { User, type UserState } from '@domain/user/user';
import { migrations } from '../../../migrations';
import { runMigrations } from '@infrastructure/persistence/typeorm/data-source';
import { typeOrmRepositories, type TypeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { aUser, at } from '../../support/mothers';
import { backends, testRepositoryOptions, type TestDatabase } from '../../support/persistence';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

/** A user with every credential type (MFA's shapes, restored as a repository would). */
function withEveryCredential(): User {
  const state = aUser().toState();
  return User.restore({
    ...state,
    credentials: {
      ...state.credentials,
      byType: {
        ...state.credentials.byType,
        totp: { type: 'totp', sealedSecret: 'sealed:totp', confirmedAt: null, createdAt: at('2026-01-03T00:00:00.000Z') },
        recovery_codes: { type: 'recovery_codes', codeHashes: ['h1', 'h2'], createdAt: at('2026-01-03T00:00:01.000Z') },
      },
    },
  });
}

describe.each(backends)('user credentials keyed by type on $name', (backend) => {
  let db: TestDatabase;
  let repos: TypeOrmRepositories;

  beforeAll(async () => {
    db = await backend.start();
    repos = typeOrmRepositories(db.dataSource.manager, testRepositoryOptions());
  });
  afterAll(async () => {
    await db?.stop();
  });

  const rowsOf = (userId: string): Promise<{ type: string; secret: string | null; data: Record<string, unknown>; updated_at: Date }[]> =>
    db.dataSource.query('SELECT type, secret, data, updated_at FROM user_credentials WHERE user_id = $1 ORDER BY type', [userId]);

  it('stores one row per type, and reads them back in one query', async () => {
    const user = withEveryCredential();
    const expected = user.toState();
    await repos.users.add(user);
    expect((await rowsOf(user.id)).map((r) => [r.type, r.secret, r.data])).toEqual([
      ['password', HASH, { changed_at: '2026-01-02T03:04:05.678Z' }],
      ['recovery_codes', null, { code_hashes: ['h1', 'h2'], created_at: '2026-01-03T00:00:01.000Z' }],
      ['totp', 'sealed:totp', { confirmed_at: null, created_at: '2026-01-03T00:00:00.000Z' }],
    ]);
    // Counted where every statement passes, named prepared ones included: pg's Client.query.
    const query = jest.spyOn(Client.prototype, 'query');
    try {
      const found = await repos.users.findById(user.id);
      expect(found?.toState()).toEqual(expected);
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      query.mockRestore();
    }
  });

  it('a changed password updates its row only; the failure bookkeeping is the users row', async () => {
    const user = withEveryCredential();
    await repos.users.add(user);
    const before = await rowsOf(user.id);
    const loaded = (await repos.users.findByIdForUpdate(user.id))!;
    loaded.recordFailedLogin(at('2026-02-01T00:00:00.000Z'), 'wrong_password');
    loaded.recordLockout(at('2026-02-01T00:00:00.000Z'), at('2026-02-01T00:15:00.000Z'));
    await repos.users.save(loaded);
    expect(await rowsOf(user.id)).toEqual(before);
    await expect(db.dataSource.query('SELECT failed_attempts, locked_until FROM users WHERE id = $1', [user.id])).resolves.toEqual([
      { failed_attempts: 1, locked_until: at('2026-02-01T00:15:00.000Z') },
    ]);

    const again = (await repos.users.findByIdForUpdate(user.id))!;
    again.changePassword('$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA', at('2026-02-02T00:00:00.000Z'));
    await repos.users.save(again);
    const after = await rowsOf(user.id);
    expect(after.find((r) => r.type === 'password')).toMatchObject({ secret: expect.stringContaining('bmV3aGFzaA'), data: { changed_at: '2026-02-02T00:00:00.000Z' } });
    expect(after.filter((r) => r.type !== 'password')).toEqual(before.filter((r) => r.type !== 'password'));
    expect((await repos.users.findById(user.id))?.toState()).toEqual(again.toState());
    // A change keeps the recorded lock (the lockout store keeps its own); a reset, a login, an unlock clear it in the row.
    expect(again.credentials).toMatchObject({ failedAttempts: 0, lockedUntil: at('2026-02-01T00:15:00.000Z') });
    const lockedRow = [{ failed_attempts: 0, locked_until: at('2026-02-01T00:15:00.000Z') }];
    await expect(db.dataSource.query('SELECT failed_attempts, locked_until FROM users WHERE id = $1', [user.id])).resolves.toEqual(lockedRow);
    const clears: [string, (u: typeof again) => void][] = [
      ['reset', (u) => u.resetPassword('$argon2id$v=19$m=19456,t=2,p=1$cmVzZXQ$cmVzZXQ', at('2026-02-03T00:00:00.000Z'))],
      ['login', (u) => u.recordSuccessfulLogin(at('2026-02-03T00:00:00.000Z'), '00000000-0000-4000-8000-000000000001', ['pwd'])],
      ['unlock', (u) => u.unlock(at('2026-02-03T00:00:00.000Z'))],
    ];
    for (const [name, clear] of clears) {
      const locked = (await repos.users.findByIdForUpdate(user.id))!;
      locked.recordFailedLogin(at('2026-02-02T12:00:00.000Z'), 'wrong_password');
      locked.recordLockout(at('2026-02-02T12:00:00.000Z'), at('2026-02-02T12:15:00.000Z'));
      await repos.users.save(locked);
      const cleared = (await repos.users.findByIdForUpdate(user.id))!;
      clear(cleared);
      await repos.users.save(cleared);
      const row = await db.dataSource.query('SELECT failed_attempts, locked_until FROM users WHERE id = $1', [user.id]);
      expect([name, row]).toEqual([name, [{ failed_attempts: 0, locked_until: null }]]);
    }
  });

  it('a credential the aggregate no longer has is deleted, a new one inserted', async () => {
    const user = withEveryCredential();
    await repos.users.add(user);
    const loaded = (await repos.users.findByIdForUpdate(user.id))!;
    const state = loaded.toState();
    const { totp: _dropped, ...kept } = state.credentials.byType;
    const changed: UserState = { ...state, credentials: { ...state.credentials, byType: kept } };
    // The same aggregate instance must be saved: restore() would make one this repository never read.
    Object.assign(loaded, { creds: User.restore(changed).credentials });
    await repos.users.save(loaded);
    expect((await rowsOf(user.id)).map((r) => r.type)).toEqual(['password', 'recovery_codes']);
    expect((await repos.users.findById(user.id))?.credentials.has('totp')).toBe(false);
  });

  it('a reader waiting for the lock sees the password committed before it got the lock', async () => {
    const user = aUser();
    await repos.users.add(user);
    const NEW = '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaA';
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const writer = db.dataSource.transaction(async (manager) => {
      const r = typeOrmRepositories(manager, testRepositoryOptions());
      const loaded = (await r.users.findByIdForUpdate(user.id))!;
      locked();
      await held;
      loaded.changePassword(NEW, at('2026-03-01T00:00:00.000Z'));
      await r.users.save(loaded);
    });
    await lockTaken;
    const reader = db.dataSource.transaction(async (manager) => {
      const r = typeOrmRepositories(manager, testRepositoryOptions());
      return (await r.users.findByIdForUpdate(user.id))?.credentials.passwordHash;
    });
    // On a server the reader now waits for the lock (PGlite runs one transaction at a time: it waits anyway).
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await writer;
    await expect(reader).resolves.toBe(NEW);
  });

  it('an account without any credential reads back with none (no password matches it)', async () => {
    const state = aUser().toState();
    const user = User.restore({ ...state, credentials: { ...state.credentials, byType: {} } });
    await repos.users.add(user);
    const found = await repos.users.findById(user.id);
    expect(found?.credentials.passwordHash).toBeNull();
    expect(found?.credentials.list()).toEqual([]);
  });
});

describe.each(backends)('migration 1764400002000 (user_credentials) on $name', (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await backend.start();
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('moves password hashes and failure bookkeeping out of `credentials`, and back on revert', async () => {
    // Back to just before this migration, whatever later migrations exist.
    const index = migrations.findIndex((m) => new m().name === 'UserCredentials1764400002000');
    for (let i = index; i < migrations.length; i += 1) await db.dataSource.undoLastMigration({ transaction: 'all' });
    const withPassword = randomUUID();
    const other = randomUUID();
    for (const [id, email] of [[withPassword, 'mig.a@example.com'], [other, 'mig.b@example.com']] as const) {
      await db.dataSource.query(
        `INSERT INTO users (id, email, status, email_verified, roles, created_at, updated_at) VALUES ($1, $2, 'active', true, '{user}', $3, $3)`,
        [id, email, at('2026-01-01T00:00:00.000Z')],
      );
    }
    await db.dataSource.query(
      `INSERT INTO credentials (user_id, password_hash, failed_attempts, locked_until, password_changed_at) VALUES ($1, $2, 3, $3, $4), ($5, $2, 0, NULL, $4)`,
      [withPassword, HASH, at('2026-01-05T00:15:00.000Z'), at('2026-01-04T10:11:12.345Z'), other],
    );

    await runMigrations(db.dataSource);
    const repos = typeOrmRepositories(db.dataSource.manager, testRepositoryOptions());
    const user = await repos.users.findById(withPassword);
    expect(user?.credentials.toState()).toEqual({
      byType: { password: { type: 'password', hash: HASH, changedAt: at('2026-01-04T10:11:12.345Z') } },
      failedAttempts: 3,
      lockedUntil: at('2026-01-05T00:15:00.000Z'),
    });
    // An account without a password row (possible from now on) reverts to a hash no password verifies.
    await db.dataSource.query(`DELETE FROM user_credentials WHERE user_id = $1`, [other]);

    for (let i = index; i < migrations.length; i += 1) await db.dataSource.undoLastMigration({ transaction: 'all' });
    await expect(
      db.dataSource.query('SELECT user_id, password_hash, failed_attempts, locked_until, password_changed_at FROM credentials ORDER BY failed_attempts DESC'),
    ).resolves.toEqual([
      { user_id: withPassword, password_hash: HASH, failed_attempts: 3, locked_until: at('2026-01-05T00:15:00.000Z'), password_changed_at: at('2026-01-04T10:11:12.345Z') },
      { user_id: other, password_hash: '!', failed_attempts: 0, locked_until: null, password_changed_at: at('2026-01-01T00:00:00.000Z') },
    ]);
    await runMigrations(db.dataSource);
  });
});
