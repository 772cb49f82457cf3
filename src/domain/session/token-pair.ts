/** What a successful login or refresh hands the client. Contains secrets: only the HTTP presenter reads it. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly accessTokenExpiresAt: Date;
  readonly refreshTokenExpiresAt: Date;
}
