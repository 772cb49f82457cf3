import type { User } from '@domain/user/user';
import { ADAPTERS, type Store } from '../../support/persistence';
import { aVerifiedUser, at } from '../../support/mothers';

const T1 = at('2026-03-01T00:00:00.000Z');
const T2 = at('2026-03-01T00:01:00.000Z');
const T3 = at('2026-03-01T00:02:00.000Z');
const T4 = at('2026-03-01T00:03:00.000Z');
const T5 = at('2026-03-01T00:04:00.000Z');
const SEALED = 'v1.sealed-by-the-secret-box.opaque';

interface Row {
  type: string;
  secret: string | null;
  data: Record<string, unknown>;
  updated_at: Date;
}

/** The MFA life cycle through the UserRepository port, each step its own unit of work under the user's lock. */
describe.each(ADAPTERS)('UserRepository with MFA credentials on $name', (adapter) => {
  let store: Store;

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  const added = async (): Promise<User> => {
    const user = aVerifiedUser();
    await store.uow.run((tx) => tx.users.add(user));
    return user;
  };
  /** One unit of work: lock, change, save; returns the saved state and the change's result. */
  const step = async <T>(id: string, change: (user: User) => T) =>
    store.uow.run(async (tx) => {
      const user = (await tx.users.findByIdForUpdate(id))!;
      const result = change(user);
      await tx.users.save(user);
      return { state: user.toState(), result };
    });
  const reloaded = async (id: string) => (await store.repos.users.findById(id))!;
  /** The SQL rows (none on the in-memory adapter, which has no SQL). */
  const rows = async (id: string): Promise<Row[] | null> =>
    store.dataSource
      ? store.dataSource.query('SELECT type, secret, data, updated_at FROM user_credentials WHERE user_id = $1 ORDER BY type', [id])
      : null;
  const mfaFlag = async (id: string): Promise<boolean | null> =>
    store.dataSource ? ((await store.dataSource.query('SELECT mfa_enabled FROM users WHERE id = $1', [id])) as { mfa_enabled: boolean }[])[0]!.mfa_enabled : null;
  const rowOf = (all: Row[] | null, type: string) => all?.find((r) => r.type === type);
  const eventsOf = async (id: string) => (await store.outbox()).filter((e) => e.subject === id && e.type.startsWith('auth.mfa.'));

  it('setup -> confirm -> use a code -> regenerate -> disable, each saved and read back', async () => {
    const user = await added();
    const passwordRow = rowOf(await rows(user.id), 'password');

    // Set-up: a pending TOTP row holding the sealed value, nothing enabled.
    const setup = await step(user.id, (u) => u.beginTotpSetup(SEALED, T1));
    expect((await reloaded(user.id)).toState()).toEqual(setup.state);
    expect((await reloaded(user.id)).mfaEnabled).toBe(false);
    if (store.dataSource) {
      const all = await rows(user.id);
      expect(all!.map((r) => [r.type, r.secret, r.data])).toEqual([
        ['password', passwordRow!.secret, passwordRow!.data],
        ['totp', SEALED, { confirmed_at: null, created_at: T1.toISOString() }],
      ]);
      expect(rowOf(all, 'password')).toEqual(passwordRow);
      await expect(mfaFlag(user.id)).resolves.toBe(false);
    }

    // Set-up again: the pending row is replaced in place.
    await step(user.id, (u) => u.beginTotpSetup(`${SEALED}.2`, T2));
    expect((await reloaded(user.id)).credentials.get('totp')).toEqual({ type: 'totp', sealedSecret: `${SEALED}.2`, confirmedAt: null, createdAt: T2 });

    // Confirm: TOTP confirmed, the recovery-code hashes stored as given, the flag set, the event in the outbox.
    const confirmed = await step(user.id, (u) => u.confirmTotp(['h1', 'h2', 'h3'], T2));
    const afterConfirm = await reloaded(user.id);
    expect(afterConfirm.toState()).toEqual(confirmed.state);
    expect(afterConfirm).toMatchObject({ mfaEnabled: true, recoveryCodesLeft: 3 });
    const rowsConfirmed = await rows(user.id);
    if (store.dataSource) {
      expect(rowsConfirmed!.map((r) => [r.type, r.secret, r.data])).toEqual([
        ['password', passwordRow!.secret, passwordRow!.data],
        ['recovery_codes', null, { code_hashes: ['h1', 'h2', 'h3'], created_at: T2.toISOString() }],
        ['totp', `${SEALED}.2`, { confirmed_at: T2.toISOString(), created_at: T2.toISOString() }],
      ]);
      await expect(mfaFlag(user.id)).resolves.toBe(true);
    }

    // Use a code: it disappears; only the recovery_codes row changes.
    const used = await step(user.id, (u) => u.useRecoveryCode('h2', T3));
    expect(used.result).toBe(true);
    expect((await reloaded(user.id)).credentials.get('recovery_codes')?.codeHashes).toEqual(['h1', 'h3']);
    expect((await reloaded(user.id)).recoveryCodesLeft).toBe(2);
    // Remembered as spent, so that sending it again reads as a replay, not as a wrong code.
    expect((await reloaded(user.id)).isSpentRecoveryCode('h2')).toBe(true);
    const rowsUsed = await rows(user.id);
    if (store.dataSource) {
      expect(rowOf(rowsUsed, 'recovery_codes')?.data).toEqual({ code_hashes: ['h1', 'h3'], created_at: T2.toISOString(), spent_hashes: ['h2'] });
      expect(rowOf(rowsUsed, 'totp')).toEqual(rowOf(rowsConfirmed, 'totp'));
      expect(rowOf(rowsUsed, 'password')).toEqual(passwordRow);
    }
    // The same code again: refused, nothing written.
    const again = await step(user.id, (u) => u.useRecoveryCode('h2', T3));
    expect(again.result).toBe(false);
    expect(await rows(user.id)).toEqual(rowsUsed);

    // Regenerate: the old set is gone, only the recovery_codes row changes.
    await step(user.id, (u) => u.replaceRecoveryCodes(['n1', 'n2'], T4));
    expect((await reloaded(user.id)).credentials.get('recovery_codes')).toEqual({ type: 'recovery_codes', codeHashes: ['n1', 'n2'], createdAt: T4 });
    if (store.dataSource) {
      const all = await rows(user.id);
      expect(rowOf(all, 'recovery_codes')?.data).toEqual({ code_hashes: ['n1', 'n2'], created_at: T4.toISOString() });
      expect(rowOf(all, 'totp')).toEqual(rowOf(rowsConfirmed, 'totp'));
    }

    // Disable: both rows deleted, the flag cleared, the password row untouched.
    const disabled = await step(user.id, (u) => u.disableMfa(T5));
    expect(disabled.result).toBe(true);
    const afterDisable = await reloaded(user.id);
    expect(afterDisable.toState()).toEqual(disabled.state);
    expect(afterDisable).toMatchObject({ mfaEnabled: false, recoveryCodesLeft: 0 });
    expect(afterDisable.credentials.list().map((c) => c.type)).toEqual(['password']);
    if (store.dataSource) {
      expect(await rows(user.id)).toEqual([passwordRow]);
      await expect(mfaFlag(user.id)).resolves.toBe(false);
    }

    expect((await eventsOf(user.id)).map((e) => [e.type, e.payload.data])).toEqual([
      ['auth.mfa.enabled', { user_id: user.id, method: 'totp' }],
      ['auth.mfa.disabled', { user_id: user.id, method: 'totp', actor_id: user.id }],
    ]);
  });

  it('the stored secret and codes are only the values passed in: no plain code, no secret in events', async () => {
    const user = await added();
    await step(user.id, (u) => u.beginTotpSetup(SEALED, T1));
    await step(user.id, (u) => u.confirmTotp(['keyed-hash-1', 'keyed-hash-2'], T2));
    const stored = (await reloaded(user.id)).credentials;
    expect(stored.get('totp')?.sealedSecret).toBe(SEALED);
    expect(stored.get('recovery_codes')?.codeHashes).toEqual(['keyed-hash-1', 'keyed-hash-2']);
    if (store.dataSource) {
      const all = (await rows(user.id))!;
      expect(rowOf(all, 'totp')?.secret).toBe(SEALED);
      expect(rowOf(all, 'recovery_codes')?.secret).toBeNull();
    }
    const events = JSON.stringify(await eventsOf(user.id));
    expect(events).not.toContain(SEALED);
    expect(events).not.toContain('keyed-hash');
  });

  it('a profile change and a code use in turn both survive (each saves only what changed)', async () => {
    const user = await added();
    await step(user.id, (u) => u.beginTotpSetup(SEALED, T1));
    await step(user.id, (u) => u.confirmTotp(['h1', 'h2'], T2));
    await store.uow.run(async (tx) => {
      const a = (await tx.users.findByIdForUpdate(user.id))!;
      const b = (await tx.users.findByIdForUpdate(user.id))!;
      a.useRecoveryCode('h1', T3);
      await tx.users.save(a);
      b.updateProfile({ firstName: 'Grace' }, T3);
      await tx.users.save(b);
    });
    const after = await reloaded(user.id);
    expect(after.credentials.get('recovery_codes')?.codeHashes).toEqual(['h2']);
    expect(after.toState()).toMatchObject({ firstName: 'Grace', mfaEnabled: true });
  });

  it('a recovery code used by parallel units of work is spent exactly once', async () => {
    for (let round = 0; round < 3; round++) {
      const user = await added();
      await step(user.id, (u) => u.beginTotpSetup(SEALED, T1));
      await step(user.id, (u) => u.confirmTotp(['h1', 'h2'], T2));
      const results = await Promise.all(Array.from({ length: 6 }, () => step(user.id, (u) => u.useRecoveryCode('h1', T3))));
      expect(results.filter((r) => r.result)).toHaveLength(1);
      expect((await reloaded(user.id)).credentials.get('recovery_codes')?.codeHashes).toEqual(['h2']);
    }
  });

  it('deleting the account removes its MFA rows', async () => {
    const user = await added();
    await step(user.id, (u) => u.beginTotpSetup(SEALED, T1));
    await step(user.id, (u) => u.confirmTotp(['h1'], T2));
    await store.uow.run(async (tx) => {
      const u = (await tx.users.findByIdForUpdate(user.id))!;
      u.markDeleted(T3);
      await tx.users.delete(u);
    });
    await expect(store.repos.users.findById(user.id)).resolves.toBeNull();
    if (store.dataSource) await expect(rows(user.id)).resolves.toEqual([]);
  });
});
