import { ListAuditEvents } from '@application/admin/list-audit-events';
import { CreateClient } from '@application/oauth/create-client';
import { DeleteClient } from '@application/oauth/delete-client';
import { RotateClientSecret } from '@application/oauth/rotate-client-secret';
import { PORTS } from '@application/ports/tokens';
import type { UnitOfWork } from '@application/ports/unit-of-work';
import { createKit } from '../support/test-kit';

/** CLI create-client / delete-client leave an audit entry, as every other admin action does (outside review). */
describe('service clients in the audit trail', () => {
  it('create and delete are audited with the client id and name, never the secret or its digest; a failed deletion writes nothing', async () => {
    const kit = await createKit();
    const { client, secret } = await kit.resolve(CreateClient).execute({ name: 'billing', scopes: 'orders:read' });
    await kit.resolve(DeleteClient).execute({ id: client.id });
    await expect(kit.resolve(DeleteClient).execute({ id: client.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const entries = kit.db.tables.auditEvents.filter((e) => e.subjectId === client.id);
    expect(entries.map(({ type, outcome, actorId, reason, ip, userAgent, requestId }) => ({ type, outcome, actorId, reason, ip, userAgent, requestId }))).toEqual([
      { type: 'client.created', outcome: 'success', actorId: null, reason: 'cli name=billing', ip: null, userAgent: null, requestId: null },
      { type: 'client.deleted', outcome: 'success', actorId: null, reason: 'cli name=billing', ip: null, userAgent: null, requestId: null },
    ]);
    const dump = JSON.stringify(kit.db.tables.auditEvents);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(client.secretHash);

    // What GET /admin/audit-events reads: both entries, filtered by type like any other.
    const page = await kit.resolve(ListAuditEvents).execute({ filter: { types: ['client.created', 'client.deleted'] }, limit: 10, after: null });
    expect(page.records.map((r) => [r.type, r.subjectId])).toEqual(
      expect.arrayContaining([
        ['client.created', client.id],
        ['client.deleted', client.id],
      ]),
    );
  });

  it('a secret rotation is audited as client.secret_rotated (tokens_revoked when so), never with either secret or digest', async () => {
    const kit = await createKit();
    const { client, secret } = await kit.resolve(CreateClient).execute({ name: 'billing svc', scopes: 'orders:read' });
    const first = await kit.resolve(RotateClientSecret).execute({ id: client.id, revokeTokens: false });
    const second = await kit.resolve(RotateClientSecret).execute({ id: client.id, revokeTokens: true });

    const entries = kit.db.tables.auditEvents.filter((e) => e.type === 'client.secret_rotated');
    expect(entries.map(({ type, outcome, actorId, subjectId, reason, ip, userAgent, requestId }) => ({ type, outcome, actorId, subjectId, reason, ip, userAgent, requestId }))).toEqual([
      { type: 'client.secret_rotated', outcome: 'success', actorId: null, subjectId: client.id, reason: 'cli name=billing svc', ip: null, userAgent: null, requestId: null },
      { type: 'client.secret_rotated', outcome: 'success', actorId: null, subjectId: client.id, reason: 'cli tokens_revoked name=billing svc', ip: null, userAgent: null, requestId: null },
    ]);
    const dump = JSON.stringify(kit.db.tables.auditEvents);
    for (const secretOrDigest of [secret, client.secretHash, first.secret, first.client.secretHash, second.secret, second.client.secretHash]) {
      expect(dump).not.toContain(secretOrDigest);
    }
    const page = await kit.resolve(ListAuditEvents).execute({ filter: { types: ['client.secret_rotated'] }, limit: 10, after: null });
    expect(page.records.map((r) => [r.type, r.subjectId])).toEqual([
      ['client.secret_rotated', client.id],
      ['client.secret_rotated', client.id],
    ]);
  });

  it('a change whose audit entry cannot be written is rolled back with it (one transaction)', async () => {
    const kit = await createKit();
    const { client } = await kit.resolve(CreateClient).execute({ name: 'kept', scopes: '' });
    // The same tables and transactions, with an audit log that fails.
    const unaudited: UnitOfWork = {
      runIfUnchanged: (user, work) => kit.uow.runIfUnchanged(user, work),
      runInserts: (work) => kit.uow.runInserts(work), // neither form is used by the client use cases
      run: (work) => kit.uow.run((repos) => work({ ...repos, audit: { record: () => Promise.reject(new Error('audit log unavailable')) } })),
    };
    const create = new CreateClient(unaudited, kit.resolve(PORTS.ClientSecrets), kit.resolve(PORTS.IdGenerator), kit.clock);
    await expect(create.execute({ name: 'lost', scopes: '' })).rejects.toThrow('audit log unavailable');
    await expect(new DeleteClient(unaudited, kit.clock).execute({ id: client.id })).rejects.toThrow('audit log unavailable');
    const rotate = new RotateClientSecret(unaudited, kit.resolve(PORTS.ClientSecrets), kit.clock);
    await expect(rotate.execute({ id: client.id, revokeTokens: true })).rejects.toThrow('audit log unavailable');
    const kept = await kit.repos.clients.findById(client.id);
    expect({ hash: kept?.secretHash, cutOff: kept?.tokensValidAfter }).toEqual({ hash: client.secretHash, cutOff: null });
    expect((await kit.repos.clients.listActive()).map((c) => c.name)).toEqual(['kept']);
  });
});
