import { inject, injectable } from 'inversify';
import { ServiceClient } from '@domain/client/service-client';
import type { ClientSecrets } from '../ports/client-secrets';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import type { UnitOfWork } from '../ports/unit-of-work';
import { PORTS } from '../ports/tokens';
import { clientAuditEntry } from './client-audit';

/**
 * Registers a service client; the secret is returned here once and stored only as its digest. Audited as
 * `client.created` in the same transaction.
 */
@injectable()
export class CreateClient {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.ClientSecrets) private readonly secrets: ClientSecrets,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { name: string; scopes: string }): Promise<{ client: ServiceClient; secret: string }> {
    const { secret, hash } = this.secrets.create();
    const now = this.clock.now();
    const client = ServiceClient.register({ id: this.ids.newId(), name: input.name, secretHash: hash, scope: input.scopes }, now);
    await this.uow.run(async (repos) => {
      await repos.clients.add(client);
      await repos.audit.record(clientAuditEntry('client.created', client, now));
    });
    return { client, secret };
  }
}
