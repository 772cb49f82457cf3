import { inject, injectable } from 'inversify';
import type { ServiceClient } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import type { ClientSecrets } from '../ports/client-secrets';
import { PORTS } from '../ports/tokens';
import { OAuthErrors } from './oauth-error';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * Client authentication (RFC 6749 §2.3.1) for every /oauth/* endpoint. The secret is checked whether or not
 * the id is known (against a dummy digest when it is not), in constant time, and only then is the outcome
 * looked at: an unknown id, a wrong secret and a deleted client cost the same and answer the same.
 */
@injectable()
export class AuthenticateClient {
  constructor(
    @inject(PORTS.ServiceClientRepository) private readonly clients: ServiceClientRepository,
    @inject(PORTS.ClientSecrets) private readonly secrets: ClientSecrets,
  ) {}

  async execute(input: ClientCredentials): Promise<ServiceClient> {
    const client = await this.clients.findById(input.clientId);
    const matches = this.secrets.matches(input.clientSecret, client?.secretHash ?? null);
    if (!client || !matches || !client.isActive()) throw OAuthErrors.invalidClient();
    return client;
  }
}
