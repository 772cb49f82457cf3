import type { VerifiedAccessClaims, VerifiedServiceAccessClaims, VerifiedUserAccessClaims } from '@application/ports/access-tokens';

type Registered = 'iss' | 'aud' | 'sub' | 'jti' | 'iat' | 'nbf' | 'exp';
/** A user token's claims as the token carries them: no `token_type` (its absence means user). */
export type UserClaimsView = Pick<VerifiedUserAccessClaims, Registered | 'sid' | 'roles' | 'email_verified' | 'amr'>;
export type ServiceClaimsView = Pick<VerifiedServiceAccessClaims, Registered | 'token_type' | 'scope'>;
export type ClaimsView = UserClaimsView | ServiceClaimsView;

/** The verified claims of the presented access token, copied member by member so nothing unexpected passes. */
export function presentClaims(claims: VerifiedUserAccessClaims): UserClaimsView;
export function presentClaims(claims: VerifiedAccessClaims): ClaimsView;
export function presentClaims(claims: VerifiedAccessClaims): ClaimsView {
  const registered = {
    iss: claims.iss,
    aud: Array.isArray(claims.aud) ? [...claims.aud] : claims.aud,
    sub: claims.sub,
    jti: claims.jti,
    iat: claims.iat,
    nbf: claims.nbf,
    exp: claims.exp,
  };
  if (claims.token_type === 'service') return { ...registered, token_type: 'service', scope: claims.scope };
  return { ...registered, sid: claims.sid, roles: [...claims.roles], email_verified: claims.email_verified, amr: [...claims.amr] };
}
