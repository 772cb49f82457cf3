import { inject, injectable } from 'inversify';
import type { ServiceClient } from '@domain/client/service-client';
import type { ClientSecrets } from '../ports/client-secrets';
import type { Clock } from '../ports/clock';
import type { UnitOfWork } from '../ports/unit-of-work';
import { PORTS } from '../ports/tokens';
import { Errors } from '../shared/errors';
import { clientAuditEntry } from './client-audit';

export interface RotatedClientSecret {
  client: ServiceClient;
  /** Shown once, like create-client's; stored only as its digest. */
  secret: string;
  tokensRevoked: boolean;
}

/**
 * Gives a client a new secret, made and stored as create-client does, so that a leaked one stops authenticating
 * as soon as this commits; the id, name and scopes stay. With `revokeTokens` the tokens issued up to now stop
 * introspecting as active, to the end of now's second (ServiceClient.acceptsTokenIssuedAt; a token request of the
 * new secret in that second is signed in the next one: IssueClientToken); without it they live until they expire.
 * Unknown or deleted: NOT_FOUND, as delete-client. The write is a compare-and-set on the digest read here: of two
 * rotations at once one wins and the other fails with CONFLICT, changing nothing, so no two answers both hold a
 * secret that works. Audited as `client.secret_rotated` in the same transaction.
 */
@injectable()
export class RotateClientSecret {
  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.ClientSecrets) private readonly secrets: ClientSecrets,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { id: string; revokeTokens: boolean }): Promise<RotatedClientSecret> {
    const { secret, hash } = this.secrets.create();
    const client = await this.uow.run(async (repos) => {
      const current = await repos.clients.findById(input.id);
      if (!current?.isActive()) throw Errors.clientNotFound();
      // Read as late as possible: the cut-off is what separates the old secret's tokens from the new one's.
      const now = this.clock.now();
      const rotated = current.withNewSecret(hash, now, input.revokeTokens);
      if (!(await repos.clients.replaceSecret(rotated, current.secretHash))) {
        // Deleted meanwhile, or rotated by someone else: tell which.
        const latest = await repos.clients.findById(input.id);
        throw latest?.isActive() ? Errors.clientSecretReplacedMeanwhile() : Errors.clientNotFound();
      }
      await repos.audit.record(clientAuditEntry('client.secret_rotated', rotated, now, { tokensRevoked: input.revokeTokens }));
      return rotated;
    });
    return { client, secret, tokensRevoked: input.revokeTokens };
  }
}
