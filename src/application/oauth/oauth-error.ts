/**
 * RFC 6749 §5.2 error codes. The /oauth/* endpoints are standards-shaped (CONTRACT §1): they answer
 * `{"error", "error_description"}`, not the envelope, so these are not contract codes and never reach it.
 * `invalid_grant` and `unauthorized_client` have no case here: the only grant is client_credentials (no grant
 * to be invalid) and every client is registered for it (README).
 */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    /** Human-readable, the same for every cause of one code where telling them apart would help an attacker. */
    readonly description: string,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export const OAuthErrors = {
  /** Unknown client, wrong secret, deleted client, no client authentication: one answer. */
  invalidClient: (): OAuthError => new OAuthError('invalid_client', 'Client authentication failed.'),
  invalidRequest: (description: string): OAuthError => new OAuthError('invalid_request', description),
  unsupportedGrantType: (): OAuthError => new OAuthError('unsupported_grant_type', 'Only the client_credentials grant is supported.'),
  invalidScope: (): OAuthError => new OAuthError('invalid_scope', 'The requested scope is invalid or not allowed for this client.'),
} as const;
