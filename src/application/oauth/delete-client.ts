import { inject, injectable } from 'inversify';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { PORTS } from '../ports/tokens';
import { Errors } from '../shared/errors';
import { clientAuditEntry } from './client-audit';

/**
 * Deletes a client for good: it no longer authenticates, and its tokens stop introspecting as active at once
 * (introspection looks the client up). Unknown or already deleted: NOT_FOUND. Audited as `client.deleted` in the
 * same transaction (a deletion that finds nothing to delete writes no entry).
 */
@injectable()
export class DeleteClient {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { id: string }): Promise<void> {
    const now = this.clock.now();
    await this.uow.run(async (repos) => {
      const client = await repos.clients.findById(input.id);
      // The conditional UPDATE decides: of two deletions at once, one changes the row and is audited.
      if (!client || !(await repos.clients.delete(input.id, now))) throw Errors.clientNotFound();
      await repos.audit.record(clientAuditEntry('client.deleted', client, now));
    });
  }
}
