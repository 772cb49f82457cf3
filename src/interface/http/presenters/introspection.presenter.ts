import type { Introspection } from '@application/oauth/introspect-token';

/** RFC 7662 §2.2 members, whitelisted: an inactive token is `{active: false}` and nothing else. */
export function presentIntrospection(result: Introspection): Record<string, unknown> {
  if (!result.active) return { active: false };
  if (result.kind === 'refresh') {
    return { active: true, token_type: 'refresh_token', sub: result.userId, sid: result.sessionId, exp: Math.floor(result.expiresAt.getTime() / 1000) };
  }
  const { iss, aud, exp, iat, nbf, jti, sub } = result.claims;
  const registered = { sub, iss, aud, exp, iat, nbf, jti };
  if (result.kind === 'service') return { active: true, token_type: 'service', client_id: sub, scope: result.claims.scope, ...registered };
  const { sid, roles, email_verified: emailVerified, amr } = result.claims;
  return { active: true, token_type: 'user', sid, roles: [...roles], email_verified: emailVerified, amr: [...amr], ...registered };
}
