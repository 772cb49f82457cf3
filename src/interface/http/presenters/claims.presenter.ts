import type { VerifiedAccessClaims } from '@application/ports/access-tokens';

export type ClaimsView = Pick<
  VerifiedAccessClaims,
  'iss' | 'aud' | 'sub' | 'sid' | 'jti' | 'iat' | 'nbf' | 'exp' | 'roles' | 'email_verified' | 'amr'
>;

/** The verified claims of the presented access token, copied member by member so nothing unexpected passes. */
export function presentClaims(claims: VerifiedAccessClaims): ClaimsView {
  return {
    iss: claims.iss,
    aud: Array.isArray(claims.aud) ? [...claims.aud] : claims.aud,
    sub: claims.sub,
    sid: claims.sid,
    jti: claims.jti,
    iat: claims.iat,
    nbf: claims.nbf,
    exp: claims.exp,
    roles: [...claims.roles],
    email_verified: claims.email_verified,
    amr: [...claims.amr],
  };
}
