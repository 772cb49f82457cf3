import { featureModule } from '../shared/feature-module';
import { AuthenticateClient } from './authenticate-client';
import { CreateClient } from './create-client';
import { DeleteClient } from './delete-client';
import { IntrospectToken } from './introspect-token';
import { IssueClientToken } from './issue-client-token';
import { ListClients } from './list-clients';
import { RevokeToken } from './revoke-token';
import { RotateClientSecret } from './rotate-client-secret';

/** Service clients and the OAuth 2.0 endpoints (client credentials, introspection, revocation). */
export const OAUTH_CLASSES = {
  AuthenticateClient,
  IssueClientToken,
  IntrospectToken,
  RevokeToken,
  CreateClient,
  ListClients,
  DeleteClient,
  RotateClientSecret,
} as const;

export const oauthModule = featureModule(OAUTH_CLASSES);
