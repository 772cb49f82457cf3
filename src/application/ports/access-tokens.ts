/** The claims this service puts into an access token (CONTRACT §4). */
export interface AccessClaims {
  sub: string;
  sid: string;
  roles: string[];
  email_verified: boolean;
  amr: string[];
}

export interface VerifiedAccessClaims extends AccessClaims {
  iss: string;
  aud: string | string[];
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
}

export interface SignedAccessToken {
  token: string;
  expiresAt: Date;
  /** Lifetime in seconds from issue (the `expires_in` a client is told). */
  expiresIn: number;
}

export interface TokenSigner {
  sign(claims: AccessClaims): Promise<SignedAccessToken>;
}

export interface TokenVerifier {
  /** Throws DomainError INVALID_TOKEN for anything but a valid token of this issuer and audience. */
  verify(token: string): Promise<VerifiedAccessClaims>;
}
