import type { TokenPair } from '@domain/session/token-pair';

export interface TokensView {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  expires_at: string;
  refresh_expires_at: string;
}

/** `expires_in`: the access token's lifetime in seconds from issue (RFC 6749 §5.1). */
export function presentTokens(tokens: TokenPair): TokensView {
  return {
    access_token: tokens.accessToken,
    refresh_token: tokens.refreshToken,
    token_type: 'Bearer',
    expires_in: tokens.accessTokenExpiresIn,
    expires_at: tokens.accessTokenExpiresAt.toISOString(),
    refresh_expires_at: tokens.refreshTokenExpiresAt.toISOString(),
  };
}
