import type { SecurityRequirementObject, SecuritySchemeObject } from 'openapi3-ts/oas31';
import type { RouteDef } from '../routing/route';

export const SECURITY_SCHEMES: Readonly<Record<string, SecuritySchemeObject>> = {
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /auth/login.' },
  client: {
    type: 'http',
    scheme: 'basic',
    description:
      'A service client (npm run cli -- create-client) by HTTP Basic, client_secret_basic: client_id and client_secret, each form-urlencoded, ' +
      'RFC 6749 §2.3.1. The alternative, client_secret_post, puts them in the body instead (the operations list it as the `{}` requirement); exactly one of the two.',
  },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'METRICS_TOKEN, the scrape secret of GET /metrics (not an access token): required only when the service is configured with one.',
  },
};

/** `{}`: no security scheme; what stands in for it is in the operation's description. */
const CLIENT_SECRET_POST: SecurityRequirementObject = {};
/** GET /metrics without METRICS_TOKEN: public (metrics-endpoint.ts). */
const PUBLIC: SecurityRequirementObject = {};

/** Credentials a route's `auth` does not say: /metrics asks for METRICS_TOKEN when the service has one (metrics-endpoint.ts). */
const BY_OPERATION: Readonly<Record<string, SecurityRequirementObject[]>> = {
  'GET /metrics': [PUBLIC, { metricsToken: [] }],
};

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  'GET /metrics':
    'Public unless the service is configured with METRICS_TOKEN; then `Authorization: Bearer <METRICS_TOKEN>` is required, and any other request ' +
    'is answered 401 UNAUTHENTICATED with `WWW-Authenticate: Bearer`. Either way it belongs behind the firewall.',
};

/**
 * RFC 6749 §2.3.1 as client-guard.ts applies it: one method per request, read after the body (its credentials may be
 * in it). Until a review, the document listed HTTP Basic alone.
 */
const CLIENT_AUTHENTICATION =
  'Client authentication, exactly one of: HTTP Basic (`client`, client_secret_basic) or `client_id` and `client_secret` in the body ' +
  '(client_secret_post, the `{}` requirement of `security`). Both at once, or more than one Authorization header: 400 invalid_request. ' +
  'Neither, anything but Basic in Authorization, or a wrong id or secret: 401 invalid_client.';

const key = (route: RouteDef) => `${route.method} ${route.path}`;

export function security(route: RouteDef): { security?: SecurityRequirementObject[] } {
  const special = BY_OPERATION[key(route)];
  if (special) return { security: special };
  if (route.auth === 'none') return {};
  if (route.auth === 'client') return { security: [{ client: [] }, CLIENT_SECRET_POST] };
  // OpenAPI 3.1 lets a non-OAuth requirement list the roles it needs.
  return { security: [{ bearer: route.auth === 'user' ? [] : [route.auth.role] }] };
}

/** What the security requirements cannot say (an operation's `description`), or nothing. */
export function securityDescription(route: RouteDef): string | undefined {
  return DESCRIPTIONS[key(route)] ?? (route.auth === 'client' ? CLIENT_AUTHENTICATION : undefined);
}
