import { inject, injectable } from 'inversify';
import { formatScope, parseScope } from '@domain/client/scope';
import type { ServiceClient } from '@domain/client/service-client';
import type { ServiceClientRepository } from '@domain/client/service-client.repository';
import { equalsConstantTime } from '@domain/shared/constant-time';
import type { TokenSigner } from '../ports/access-tokens';
import { waitUntil, type Clock } from '../ports/clock';
import { PORTS } from '../ports/tokens';
import { Errors } from '../shared/errors';
import { OAuthErrors } from './oauth-error';

export interface ClientToken {
  accessToken: string;
  expiresIn: number;
  scope: string;
}

/**
 * The longest a token request waits for its client's token cut-off to be over: the rest of the cut-off's own
 * second, at most. A longer wait means this clock is behind the one that set the cut-off (SERVICE_UNAVAILABLE).
 */
export const MAX_CUT_OFF_WAIT_MS = 1000;

/**
 * RFC 6749 §4.4: an authenticated client gets a service access token (CONTRACT §4: `sub` = client id,
 * `token_type: "service"`, `scope`), never a refresh token. Without `scope` it gets every scope it is allowed.
 * The client was authenticated against the digest read before signing; a rotation (or deletion) could commit in
 * between. So the client is read again once the token is signed, and the token is thrown away (invalid_client)
 * unless the digest is still the one the secret matched: no token of an old secret leaves after its rotation
 * committed. One that was signed before that commit is a token issued before the rotation, and a rotation with
 * `--revoke-tokens` refuses every token issued in its cut-off's second or earlier (ServiceClient.acceptsTokenIssuedAt).
 * A request whose client's cut-off second is not over yet (it rotated and asks at once with its new secret) is
 * therefore signed only once that second has ended: it waits for it (under a second), and the token is dated by the
 * clock then, never ahead of it (`iat` and `nbf` are never in the future). Should the token still not be honoured
 * (this clock behind the one that set the cut-off by more than that wait, or a clock that did not move), none is
 * handed out: SERVICE_UNAVAILABLE with Retry-After, so the client retries instead of holding a token that
 * introspects inactive.
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
    await this.untilTokensAccepted(input.client);
    const signed = await this.signer.sign({ token_type: 'service', sub: input.client.id, scope });
    const latest = await this.clients.findById(input.client.id);
    if (!latest?.isActive() || !equalsConstantTime(latest.secretHash, input.client.secretHash)) throw OAuthErrors.invalidClient();
    // The clock did not get past the cut-off's second after all (stepped back, or not moving): this token would
    // introspect inactive. The clock, not the client, is at fault: a retry in a second is the remedy.
    if (!latest.acceptsTokenIssuedAt(signed.issuedAt.getTime() / 1000)) throw Errors.clientTokensCutOffAhead(1);
    await this.clients.recordUse(input.client.id, this.clock.now());
    return { accessToken: signed.token, expiresIn: signed.expiresIn, scope };
  }

  /** Waits, if need be, until a token issued now is honoured: past the second of the client's cut-off. */
  private async untilTokensAccepted(client: ServiceClient): Promise<void> {
    const from = client.tokensAcceptedFrom();
    if (from === null) return;
    const wait = from.getTime() - this.clock.now().getTime();
    if (wait <= 0) return;
    if (wait > MAX_CUT_OFF_WAIT_MS) throw Errors.clientTokensCutOffAhead(wait / 1000);
    await waitUntil(this.clock, from);
  }
}
