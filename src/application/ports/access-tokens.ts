/**
 * The claims this service puts into an access token (CONTRACT §4), one shape per kind of subject, told apart
 * by `token_type`. A user token does not carry the claim (today's tokens, and the contract's list of user
 * claims): its absence means "user". A service token (client credentials) carries `token_type: "service"`,
 * `sub` = the client id and `scope`, and never a session, roles or user attributes.
 */
export interface UserAccessClaims {
  /** Never written into the token: a user token is one without `token_type`. */
  token_type?: 'user';
  sub: string;
  sid: string;
  roles: string[];
  email_verified: boolean;
  amr: string[];
}

export interface ServiceAccessClaims {
  token_type: 'service';
  /** The client id. */
  sub: string;
  /** Granted scopes, space-separated (RFC 6749 §3.3); may be empty. */
  scope: string;
}

export type AccessClaims = UserAccessClaims | ServiceAccessClaims;
export type AccessTokenType = 'user' | 'service';

/** Registered claims (RFC 7519) the signer adds and the verifier checks. */
export interface RegisteredClaims {
  iss: string;
  aud: string | string[];
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
}

export type VerifiedUserAccessClaims = UserAccessClaims & RegisteredClaims;
export type VerifiedServiceAccessClaims = ServiceAccessClaims & RegisteredClaims;
export type VerifiedAccessClaims = VerifiedUserAccessClaims | VerifiedServiceAccessClaims;

export function tokenTypeOf(claims: AccessClaims): AccessTokenType {
  return claims.token_type === 'service' ? 'service' : 'user';
}

export function isServiceClaims<C extends AccessClaims>(claims: C): claims is Extract<C, ServiceAccessClaims> {
  return claims.token_type === 'service';
}

export interface SignedAccessToken {
  token: string;
  /** Its `iat` (whole seconds, rounded down), as a Date. */
  issuedAt: Date;
  expiresAt: Date;
  /** Lifetime in seconds from issue (the `expires_in` a client is told). */
  expiresIn: number;
}

export interface SignOptions {
  /**
   * The token expires no later than this (its session's expiry): `exp` is the earlier of it and the lifetime's end,
   * so a service verifying offline never accepts a token past the end of the session it was issued for.
   */
  notAfter?: Date;
}

export interface TokenSigner {
  /** Writes the claims of the token's kind only, picked one by one (nothing else a caller's object carries). */
  sign(claims: AccessClaims, options?: SignOptions): Promise<SignedAccessToken>;
}

export interface TokenVerifier {
  /**
   * Throws DomainError INVALID_TOKEN for anything but a valid token of this issuer and audience whose claims
   * have exactly one kind's shape (a service token with a `sid`, or an unknown `token_type`, is invalid).
   */
  verify(token: string): Promise<VerifiedAccessClaims>;
}
