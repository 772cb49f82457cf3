import type { Middleware } from 'koa';
import type { AuthenticateClient, ClientCredentials } from '@application/oauth/authenticate-client';
import { OAuthErrors } from '@application/oauth/oauth-error';
import type { HttpContext, HttpState } from '../http-state';
import { severalAuthorizationHeaders } from '../middleware/bearer-auth';

/** Longer ids or secrets are none of ours; refused before any lookup. */
const MAX_CREDENTIAL_LENGTH = 512;

/**
 * The guard of routes whose `auth` is 'client' (the /oauth/* endpoints), run after the body is read because
 * RFC 6749 §2.3.1 lets a client authenticate in the body as well as with HTTP Basic. Exactly one method per
 * request: both at once is invalid_request, as is more than one Authorization header (Node keeps the first, a
 * proxy in front may read another); none, or anything that is not Basic (a user's Bearer token above all), is
 * invalid_client. Sets `ctx.state.serviceClient`.
 */
export function clientGuard(authenticate: AuthenticateClient): Middleware<HttpState> {
  return async (ctx, next) => {
    ctx.state.serviceClient = await authenticate.execute(presentedCredentials(ctx));
    await next();
  };
}

function presentedCredentials(ctx: HttpContext): ClientCredentials {
  // Present counts, empty or not: an empty first header followed by another would otherwise pass both checks
  // below (Node keeps the first, empty; a proxy may read the second) (an outside review, 2026-12-03).
  const header = ctx.req.headers.authorization;
  if (severalAuthorizationHeaders(ctx.req.rawHeaders)) {
    throw OAuthErrors.invalidRequest('The request has more than one Authorization header.');
  }
  const body = ctx.state.body ?? {};
  const inBody = Object.hasOwn(body, 'client_id') || Object.hasOwn(body, 'client_secret');
  if (header !== undefined && inBody) {
    throw OAuthErrors.invalidRequest('Use one client authentication method: HTTP Basic or client_id and client_secret in the body, not both.');
  }
  if (header !== undefined) return basicCredentials(header);
  if (!inBody) throw OAuthErrors.invalidClient();
  const { client_id: clientId, client_secret: clientSecret } = body;
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string') throw OAuthErrors.invalidClient();
  return bounded({ clientId, clientSecret });
}

/** RFC 6749 §2.3.1: base64 of `id:secret`, each form-urlencoded (RFC 7617 alone would take them raw). */
function basicCredentials(header: string): ClientCredentials {
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) throw OAuthErrors.invalidClient();
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw OAuthErrors.invalidClient();
  return bounded({ clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) });
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw OAuthErrors.invalidClient();
  }
}

function bounded(credentials: ClientCredentials): ClientCredentials {
  const { clientId, clientSecret } = credentials;
  if (clientId.length === 0 || clientId.length > MAX_CREDENTIAL_LENGTH || clientSecret.length > MAX_CREDENTIAL_LENGTH) {
    throw OAuthErrors.invalidClient();
  }
  return credentials;
}
