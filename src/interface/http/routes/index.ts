import type { RouteDef } from '../routing/route';
import { ACCOUNT_ROUTES } from './account.routes';
import { DOCS_ROUTES } from './docs.routes';
import { HEALTH_ROUTES } from './health.routes';
import { METRICS_ROUTES } from './metrics.routes';
import { MFA_ROUTES } from './mfa.routes';
import { OAUTH_ROUTES } from './oauth.routes';
import { PASSWORD_ROUTES } from './password.routes';
import { SESSION_ROUTES } from './session.routes';
import { WELL_KNOWN_ROUTES } from './well-known.routes';
import { ADMIN_ROUTES } from './admin.routes';

/** Every HTTP route of the service: the mount, the OpenAPI document and the metrics' route labels read this. */
export const ROUTES: readonly RouteDef[] = [...ACCOUNT_ROUTES, ...SESSION_ROUTES, ...PASSWORD_ROUTES, ...MFA_ROUTES, ...WELL_KNOWN_ROUTES, ...HEALTH_ROUTES, ...METRICS_ROUTES, ...DOCS_ROUTES, ...OAUTH_ROUTES, ...ADMIN_ROUTES];
