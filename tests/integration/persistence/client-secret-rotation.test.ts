import { randomBytes } from 'node:crypto';
import { CreateClient } from '@application/oauth/create-client';
import { RotateClientSecret, type RotatedClientSecret } from '@application/oauth/rotate-client-secret';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import type { AuditEntry } from '@application/ports/audit-log';
import type { UnitOfWork } from '@application/ports/unit-of-work';
import { HmacClientSecrets } from '@infrastructure/security/crypto/hmac-client-secrets';
import { SystemClock } from '@infrastructure/time/system-clock';
import { UuidGenerator } from '@infrastructure/time/uuid-generator';
import { ADAPTERS, type Store } from '../../support/persistence';

const ROUNDS = 10;

/**
 * rotate-client-secret's use case on every adapter: rotations of one client at once leave exactly one secret that
 * works, and it is one that a rotation printed; every other rotation either ran before it (its secret replaced) or
 * failed with CONFLICT, changing nothing. On the PostgreSQL server transactions really overlap; PGlite and memory
 * run them one at a time (there the invariant holds trivially, and the test checks the sequential outcome).
 */
describe.each(ADAPTERS)('rotating a client secret on $name', (adapter) => {
  let store: Store;
  const secrets = new HmacClientSecrets(randomBytes(32));
  const clock = new SystemClock();

  beforeAll(async () => {
    store = await adapter.start();
  });
  afterAll(async () => store?.stop());

  const create = async (name: string) => (await new CreateClient(store.uow, secrets, new UuidGenerator(), clock).execute({ name, scopes: 'a' })).client;
  const rotation = (uow: UnitOfWork = store.uow) => new RotateClientSecret(uow, secrets, clock);
  const settled = (id: string, revokeTokens: boolean) =>
    rotation()
      .execute({ id, revokeTokens })
      .then(
        (value): { ok: true; value: RotatedClientSecret } => ({ ok: true, value }),
        (error: unknown): { ok: false; error: unknown } => ({ ok: false, error }),
      );

  it(`${ROUNDS} rounds of two rotations at once: exactly one printed secret works, no cut-off is lost, each failure is CONFLICT, one audit entry per success`, async () => {
    const client = await create('burst');
    let conflicts = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const outcomes = await Promise.all([settled(client.id, round % 2 === 0), settled(client.id, false)]);
      const stored = (await store.clients.findById(client.id))!;
      const printed = outcomes.flatMap((o) => (o.ok ? [o.value.secret] : []));
      expect(printed.length).toBeGreaterThanOrEqual(1);
      expect(printed.filter((secret) => secrets.matches(secret, stored.secretHash))).toHaveLength(1);
      for (const o of outcomes) if (!o.ok) expect(o.error).toMatchObject({ code: 'CONFLICT' });
      // A --revoke-tokens rotation that succeeded keeps its cut-off: a rotation without the flag that read the row
      // before it cannot write an older one back.
      for (const o of outcomes) {
        if (o.ok && o.value.tokensRevoked) expect(stored.tokensValidAfter?.getTime()).toBeGreaterThanOrEqual(o.value.client.tokensValidAfter!.getTime());
      }
      conflicts += outcomes.filter((o) => !o.ok).length;
    }
    const audited = (await store.auditEntries()).filter((e) => e.type === 'client.secret_rotated' && e.subjectId === client.id);
    expect(audited).toHaveLength(2 * ROUNDS - conflicts);
    // One connection or one in-memory transaction at a time: both always run, one after the other.
    if (!adapter.parallel) expect(conflicts).toBe(0);
  }, 60_000);

  // One connection or one in-memory transaction at a time: there is no interleaving to stage.
  const whenParallel = adapter.parallel ? it : () => undefined;
  whenParallel('two rotations that read the same secret: the one that writes second changes nothing and fails with CONFLICT', async () => {
    const client = await create('staged');
    let firstReplaced!: () => void;
    const replacedByFirst = new Promise<void>((resolve) => (firstReplaced = resolve));
    let secondRead!: () => void;
    const readBySecond = new Promise<void>((resolve) => (secondRead = resolve));
    // The first rotation replaces the secret (the row locked, not committed) and waits until the second has read it;
    // the second starts only then, reads the digest still committed, and writes after (or while) the first commits.
    const first = rotation(hooked(store.uow, { afterReplace: () => firstReplaced(), beforeAudit: () => readBySecond })).execute({ id: client.id, revokeTokens: true });
    await replacedByFirst;
    const second = rotation(hooked(store.uow, { afterRead: () => secondRead() })).execute({ id: client.id, revokeTokens: false });
    const [won, lost] = await Promise.allSettled([first, second]);
    expect(lost).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT' } });
    expect(won.status).toBe('fulfilled');
    const stored = (await store.clients.findById(client.id))!;
    expect(secrets.matches((won as PromiseFulfilledResult<RotatedClientSecret>).value.secret, stored.secretHash)).toBe(true);
    expect(stored.tokensValidAfter).not.toBeNull(); // the winner's cut-off, not overwritten by the loser
  });
});

/** A unit of work whose client reads and audit writes call the hooks (to stage an interleaving). */
function hooked(uow: UnitOfWork, hooks: { afterRead?: () => void; afterReplace?: () => void; beforeAudit?: () => Promise<void> }): UnitOfWork {
  return {
    runIfUnchanged: (user, work) => uow.runIfUnchanged(user, work),
    runInserts: (work) => uow.runInserts(work), // neither form is used by the client use cases
    run: (work) =>
      uow.run((repos) => {
        const inner = repos.clients;
        const clients: ServiceClientRepository = {
          add: (client) => inner.add(client),
          findById: async (id) => {
            const read = await inner.findById(id);
            hooks.afterRead?.();
            return read;
          },
          listActive: () => inner.listActive(),
          delete: (id, now) => inner.delete(id, now),
          replaceSecret: async (rotated, expectedHash) => {
            const replaced = await inner.replaceSecret(rotated, expectedHash);
            hooks.afterReplace?.();
            return replaced;
          },
          recordUse: (id, now) => inner.recordUse(id, now),
        };
        const audit = {
          record: async (entry: AuditEntry) => {
            await hooks.beforeAudit?.();
            return repos.audit.record(entry);
          },
        };
        return work({ ...repos, clients, audit });
      }),
  };
}
