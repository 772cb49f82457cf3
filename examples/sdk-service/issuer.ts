/**
 * The issuer the example services expect in tokens: `AUTH_ISSUER` when set, else the one auth-service states in its
 * RFC 8414 metadata (`issuer`, its `JWT_ISSUER`). Not AUTH_URL itself: a service started with the defaults issues
 * `http://localhost:PORT`, which an AUTH_URL of `http://127.0.0.1:PORT` is not, and every token was refused
 * 401 INVALID_TOKEN with nothing pointing at the issuer (a review that followed the README, stop 53).
 */
export async function expectedIssuer(authUrl: string, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  const response = await fetch(`${authUrl}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`auth-service metadata answered ${response.status}: set AUTH_ISSUER to its JWT_ISSUER`);
  const { issuer } = (await response.json()) as { issuer?: unknown };
  if (typeof issuer !== 'string' || issuer === '') throw new Error('auth-service metadata has no issuer: set AUTH_ISSUER to its JWT_ISSUER');
  return issuer;
}
