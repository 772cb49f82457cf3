/** Longer tokens are none of ours (access tokens stay well under 2 KiB, refresh tokens are 43 characters). */
export const MAX_TOKEN_LENGTH = 8 * 1024;

/**
 * Access tokens are compact JWS (three dot-separated parts), refresh tokens opaque base64url without dots: the
 * shape says which lookup applies, so `token_type_hint` (RFC 7662 §2.1, RFC 7009 §2.1) is not needed.
 */
export function looksLikeJwt(token: string): boolean {
  return token.split('.').length === 3;
}
