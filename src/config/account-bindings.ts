import type { Container } from 'inversify';
import { ChangePassword } from '@application/password/change-password';
import { ConfirmPasswordReset } from '@application/password/confirm-password-reset';
import { RequestPasswordReset } from '@application/password/request-password-reset';
import { CurrentPasswordGuard } from '@application/password/current-password';
import { DeleteAccount } from '@application/account/delete-account';
import { ListSessions } from '@application/session/list-sessions';
import { RevokeSession } from '@application/session/revoke-session';
import { UpdateCredentials } from '@application/account/update-credentials';
import { UpdateProfile } from '@application/account/update-profile';
import type { SecretAttempts } from '@application/ports/secret-attempts';
import type { AppConfig } from './env';
import { TOKENS as T } from './tokens';

/** The account-lifecycle use cases (issue 3), bound on the one container by createContainer. */
export function bindAccountUseCases(c: Container): void {
  c.bind(T.CurrentPasswordGuard).toResolvedValue(
    (attempts: SecretAttempts, config: AppConfig) => new CurrentPasswordGuard(attempts, config.abuse.currentPasswordMaxFailures),
    [T.SecretAttempts, T.Config],
  );
  c.bind(T.RequestPasswordReset).toResolvedValue(
    (...a: ConstructorParameters<typeof RequestPasswordReset>) => new RequestPasswordReset(...a),
    [T.UnitOfWork],
  );
  c.bind(T.ConfirmPasswordReset).toResolvedValue(
    (...a: ConstructorParameters<typeof ConfirmPasswordReset>) => new ConfirmPasswordReset(...a),
    [T.UnitOfWork, T.PasswordHasher, T.OpaqueTokens, T.Clock, T.AuthSettings, T.PasswordPolicy, T.LoginLockout],
  );
  c.bind(T.ChangePassword).toResolvedValue(
    (...a: ConstructorParameters<typeof ChangePassword>) => new ChangePassword(...a),
    [T.UserRepository, T.UnitOfWork, T.PasswordHasher, T.Clock, T.AuthSettings, T.PasswordPolicy, T.CurrentPasswordGuard],
  );
  c.bind(T.UpdateProfile).toResolvedValue(
    (...a: ConstructorParameters<typeof UpdateProfile>) => new UpdateProfile(...a),
    [T.UnitOfWork, T.Clock],
  );
  c.bind(T.UpdateCredentials).toResolvedValue(
    (...a: ConstructorParameters<typeof UpdateCredentials>) => new UpdateCredentials(...a),
    [T.UserRepository, T.UnitOfWork, T.PasswordHasher, T.OpaqueTokens, T.IdGenerator, T.Clock, T.AuthSettings, T.CurrentPasswordGuard],
  );
  c.bind(T.DeleteAccount).toResolvedValue(
    (...a: ConstructorParameters<typeof DeleteAccount>) => new DeleteAccount(...a),
    [T.UserRepository, T.UnitOfWork, T.PasswordHasher, T.Clock, T.CurrentPasswordGuard],
  );
  c.bind(T.ListSessions).toResolvedValue(
    (...a: ConstructorParameters<typeof ListSessions>) => new ListSessions(...a),
    [T.SessionRepository, T.Clock],
  );
  c.bind(T.RevokeSession).toResolvedValue(
    (...a: ConstructorParameters<typeof RevokeSession>) => new RevokeSession(...a),
    [T.UnitOfWork, T.Clock],
  );
}
