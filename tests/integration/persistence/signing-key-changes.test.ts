import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '@application/ports/audit-log';
import type { SecretBox } from '@application/ports/secret-box';
import type { SigningKeyRecord } from '@application/ports/signing-keys';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import { ManualClock } from '@infrastructure/time/system-clock';
import { ADAPTERS, SQL_ADAPTERS, type Store } from '../../support/persistence';

const ROUNDS = 6;
const BURST = 4;
const OPTIONS = { alg: 'EdDSA' as const, accessTokenTtlSeconds: 900 };

/** A rotation's audit reason, read back: `cli [forced ]promoted=<kid|-> retired=<kids|-> next=<kid>`. */
function parseRotation(reason: string | null): { forced: boolean; promoted: string; retired: string[]; next: string } {
  const match = /^cli (forced )?promoted=(\S+) retired=(\S+) next=(\S+)$/.exec(reason ?? '');
  if (!match) throw new Error(`not a rotation's reason: ${reason}`);
  return { forced: match[1] !== undefined, promoted: match[2]!, retired: match[3] === '-' ? [] : match[3]!.split(','), next: match[4]! };
}

const ofStatus = (keys: SigningKeyRecord[], status: SigningKeyRecord['status']) => keys.filter((k) => k.status === status).map((k) => k.kid);
const keyAudit = async (store: Store, type: AuditEntry['type']) => (await store.auditEntries()).filter((e) => e.type === type);

/**
 * rotate-keys and withdraw-key write in one transaction with their audit entry (SigningKeyTransaction), holding the
 * keys against every other change of them. Until stop 60 each write was its own statement, unaudited: two rotations
 * at once (two operators, a retried deploy step) each promoted the same next key and each published a new one, and a
 * rotation cut short between its writes left what it had written.
 */
describe.each(ADAPTERS)('signing-key changes on $name', (adapter) => {
  let store: Store;
  const box = new AesGcmSecretBox(randomBytes(32));
  const clock = new ManualClock(new Date('2026-12-07T12:00:00.000Z'));
  /** One manager per process that may rotate: the CLI runs of two operators, each with its own. */
  const manager = (sealer: SecretBox = box) => new SigningKeyManager(store.signingKeys, sealer, clock, { ...OPTIONS, transact: store.signingKeyTransaction });

  beforeAll(async () => {
    store = await adapter.start();
    await manager().init();
  });
  afterAll(async () => store?.stop());

  it(`${ROUNDS} rounds of ${BURST} forced rotations at once: they run one after the other, each audited with its kids`, async () => {
    const managers = Array.from({ length: BURST }, () => manager());
    for (let round = 0; round < ROUNDS; round += 1) {
      const before = await store.signingKeys.list();
      const [nextBefore] = ofStatus(before, 'next');
      const audited = (await keyAudit(store, 'signing_key.rotated')).length;
      clock.advance(1);

      await expect(Promise.all(managers.map((m) => m.rotate(0)))).resolves.toEqual(Array(BURST).fill(null));

      const after = await store.signingKeys.list();
      expect({ round, active: ofStatus(after, 'active').length, next: ofStatus(after, 'next').length }).toEqual({ round, active: 1, next: 1 });
      const entries = (await keyAudit(store, 'signing_key.rotated')).slice(audited);
      expect(entries).toHaveLength(BURST);
      for (const entry of entries) expect(entry).toMatchObject({ outcome: 'success', actorId: null, subjectId: null, ip: null });
      const rotations = entries.map((e) => parseRotation(e.reason));
      // A chain: each promoted the next key the one before it published, so the promoted keys are all different,
      // and (the key waiting before, then every rotation's new one) = (every promoted key, then the one waiting now).
      const promoted = rotations.map((r) => r.promoted);
      expect(new Set(promoted).size).toBe(BURST);
      expect([nextBefore!, ...rotations.map((r) => r.next)].sort()).toEqual([...promoted, ofStatus(after, 'next')[0]!].sort());
      expect(promoted).toContain(ofStatus(after, 'active')[0]);
      // Every rotation retired exactly the key that signed before it: one each, all different.
      expect(rotations.map((r) => r.retired.length)).toEqual(Array(BURST).fill(1));
      expect(new Set(rotations.flatMap((r) => r.retired)).size).toBe(BURST);
      expect(rotations.every((r) => r.forced)).toBe(true);
    }
  });

  it('a rotation that fails part-way writes nothing: no key changed, no audit entry', async () => {
    let failSeal = true;
    const failing: SecretBox = {
      // The new next key is sealed after the old next key was promoted and the active one retired.
      seal: (plain, context) => {
        if (failSeal) throw new Error('sealing failed');
        return box.seal(plain, context);
      },
      open: (sealed, context) => box.open(sealed, context),
      reseal: (sealed, context) => box.reseal(sealed, context),
      sealUnder: (plain, context, secret) => box.sealUnder(plain, context, secret),
      openUnder: (sealed, context, secret) => box.openUnder(sealed, context, secret),
      opensAlone: (sealed, context) => box.opensAlone(sealed, context),
    };
    const before = await store.signingKeys.list();
    const audited = (await store.auditEntries()).length;
    clock.advance(1);
    await expect(manager(failing).rotate(0)).rejects.toThrow('sealing failed');
    expect(await store.signingKeys.list()).toEqual(before);
    expect(await store.auditEntries()).toHaveLength(audited);
    failSeal = false;
    await expect(manager(failing).rotate(0)).resolves.toBeNull();
    expect(ofStatus(await store.signingKeys.list(), 'active')).toEqual(ofStatus(before, 'next'));
  });

  it('a refused rotation (next key too young) and refused withdrawals write no audit entry; a withdrawal is audited with its kid', async () => {
    const keys = manager();
    clock.advance(1);
    await keys.rotate(0);
    const audited = (await store.auditEntries()).length;
    await expect(keys.rotate(360)).resolves.toEqual({ refusedAgeSeconds: 0 });
    const listed = await store.signingKeys.list();
    const [active] = ofStatus(listed, 'active');
    const [next] = ofStatus(listed, 'next');
    const retired = ofStatus(listed, 'retired');
    await expect(keys.withdraw(active!)).resolves.toBe('active');
    await expect(keys.withdraw(next!)).resolves.toBe('next');
    await expect(keys.withdraw('Zm9yZ2Vk')).resolves.toBe('unknown');
    expect(await store.auditEntries()).toHaveLength(audited);

    // Two withdrawals of one key at once: one deletes it (audited), the other finds it gone.
    const outcomes = await Promise.all([keys.withdraw(retired[0]!), manager().withdraw(retired[0]!)]);
    expect(outcomes.sort()).toEqual(['unknown', 'withdrawn']);
    const withdrawn = await keyAudit(store, 'signing_key.withdrawn');
    expect(withdrawn).toEqual([expect.objectContaining({ outcome: 'success', actorId: null, subjectId: null, reason: `cli kid=${retired[0]}` })]);
    expect((await store.signingKeys.list()).map((k) => k.kid)).not.toContain(retired[0]);
  });
});

/**
 * What another instance's reload reads while rotations run: on the SQL adapters a rotation commits at once, so a
 * reload sees the keys before it or after it, never one active key retired with no next key published yet, or two
 * active (each a single statement until stop 60). The in-memory tables have no isolation for plain reads.
 */
describe.each(SQL_ADAPTERS)('signing-key rotations as a reload sees them on $name', (adapter) => {
  it(`${ROUNDS} rounds of ${BURST} rotations at once, read all along: always one active and one next key`, async () => {
    const store = await adapter.start();
    try {
      const box = new AesGcmSecretBox(randomBytes(32));
      const clock = new ManualClock(new Date('2026-12-07T12:00:00.000Z'));
      const manager = () => new SigningKeyManager(store.signingKeys, box, clock, { ...OPTIONS, transact: store.signingKeyTransaction });
      await manager().init();
      const seen: { active: number; next: number }[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        clock.advance(1);
        let rotating = true;
        const reader = (async () => {
          while (rotating) {
            const keys = await store.signingKeys.list();
            seen.push({ active: ofStatus(keys, 'active').length, next: ofStatus(keys, 'next').length });
          }
        })();
        await Promise.all(Array.from({ length: BURST }, () => manager().rotate(0))).finally(() => (rotating = false));
        await reader;
      }
      expect(seen.length).toBeGreaterThan(ROUNDS);
      expect(seen.filter((s) => s.active !== 1 || s.next !== 1)).toEqual([]);
    } finally {
      await store.stop();
    }
  });
});
