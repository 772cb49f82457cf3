/** What a successful login or refresh hands the client. Contains secrets: only the HTTP presenter reads it. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly accessTokenExpiresAt: Date;
  /** Seconds the access token is valid for from issue. */
  readonly accessTokenExpiresIn: number;
  readonly refreshTokenExpiresAt: Date;
}
