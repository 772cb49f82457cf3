import { inject, injectable } from 'inversify';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import type { Clock } from '../ports/clock';
import { PORTS } from '../ports/tokens';
import { Errors } from '../shared/errors';

/**
 * Deletes a client for good: it no longer authenticates, and its tokens stop introspecting as active at once
 * (introspection looks the client up). Unknown or already deleted: NOT_FOUND.
 */
@injectable()
export class DeleteClient {
  constructor(
    @inject(PORTS.ServiceClientRepository) private readonly clients: ServiceClientRepository,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { id: string }): Promise<void> {
    if (!(await this.clients.delete(input.id, this.clock.now()))) throw Errors.clientNotFound();
  }
}
