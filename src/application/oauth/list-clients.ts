import { inject, injectable } from 'inversify';
import type { ServiceClient } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import { PORTS } from '../ports/tokens';

/** The clients not deleted, oldest first (presenters show no secret digest). */
@injectable()
export class ListClients {
  constructor(@inject(PORTS.ServiceClientRepository) private readonly clients: ServiceClientRepository) {}

  async execute(): Promise<ServiceClient[]> {
    return this.clients.listActive();
  }
}
