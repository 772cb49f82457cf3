import { inject, injectable } from 'inversify';
import { formatScope, parseScope } from '@domain/client/scope';
import type { ServiceClient } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import { equalsConstantTime } from '@domain/shared/constant-time';
import type { TokenSigner } from '../ports/access-tokens';
import type { Clock } from '../ports/clock';
import { PORTS } from '../ports/tokens';
import { OAuthErrors } from './oauth-error';

export interface ClientToken {
  accessToken: string;
  expiresIn: number;
  scope: string;
}

/**
 * RFC 6749 §4.4: an authenticated client gets a service access token (CONTRACT §4: `sub` = client id,
 * `token_type: "service"`, `scope`), never a refresh token. Without `scope` it gets every scope it is allowed.
 * The client was authenticated against the digest read before signing; a rotation (or deletion) could commit in
 * between. So the client is read again once the token is signed, and the token is thrown away (invalid_client)
 * unless the digest is still the one the secret matched: no token of an old secret leaves after its rotation
 * committed. One that was signed before that commit is a token issued before the rotation.
 */
@injectable()
export class IssueClientToken {
  constructor(
    @inject(PORTS.TokenSigner) private readonly signer: TokenSigner,
    @inject(PORTS.ServiceClientRepository) private readonly clients: ServiceClientRepository,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(input: { client: ServiceClient; grantType: string; scope?: string }): Promise<ClientToken> {
    if (input.grantType !== 'client_credentials') throw OAuthErrors.unsupportedGrantType();
    const requested = input.scope === undefined ? null : parseScope(input.scope);
    if (requested === null && input.scope !== undefined) throw OAuthErrors.invalidScope();
    const granted = input.client.grant(requested);
    if (granted === null) throw OAuthErrors.invalidScope();
    const scope = formatScope(granted);
    const signed = await this.signer.sign({ token_type: 'service', sub: input.client.id, scope });
    const latest = await this.clients.findById(input.client.id);
    if (!latest?.isActive() || !equalsConstantTime(latest.secretHash, input.client.secretHash)) throw OAuthErrors.invalidClient();
    await this.clients.recordUse(input.client.id, this.clock.now());
    return { accessToken: signed.token, expiresIn: signed.expiresIn, scope };
  }
}
