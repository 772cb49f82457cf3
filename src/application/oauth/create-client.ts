import { inject, injectable } from 'inversify';
import { ServiceClient } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import type { ClientSecrets } from '../ports/client-secrets';
import type { Clock } from '../ports/clock';
import type { IdGenerator } from '../ports/id-generator';
import { PORTS } from '../ports/tokens';

/** Registers a service client; the secret is returned here once and stored only as its digest. */
@injectable()
export class CreateClient {
  constructor(
    @inject(PORTS.ServiceClientRepository) private readonly clients: ServiceClientRepository,
    @inject(PORTS.ClientSecrets) private readonly secrets: ClientSecrets,
    @inject(PORTS.IdGenerator) private readonly ids: IdGenerator,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { name: string; scopes: string }): Promise<{ client: ServiceClient; secret: string }> {
    const { secret, hash } = this.secrets.create();
    const client = ServiceClient.register({ id: this.ids.newId(), name: input.name, secretHash: hash, scope: input.scopes }, this.clock.now());
    await this.clients.add(client);
    return { client, secret };
  }
}
