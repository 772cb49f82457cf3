import { featureModule } from '../shared/feature-module';
import { ListSessions } from './list-sessions';
import { LoginWithPassword } from './login-with-password';
import { Logout } from './logout';
import { RefreshSession } from './refresh-session';
import { RevokeSession } from './revoke-session';
import { SessionIssuer } from './session-issuer';
import { SessionLimit } from './session-limit';
import { ValidateAccessToken } from './validate-access-token';

/** Sign-in, tokens and sessions. */
export const SESSION_CLASSES = {
  SessionLimit,
  SessionIssuer,
  LoginWithPassword,
  RefreshSession,
  Logout,
  ValidateAccessToken,
  ListSessions,
  RevokeSession,
} as const;

export const sessionModule = featureModule(SESSION_CLASSES);
