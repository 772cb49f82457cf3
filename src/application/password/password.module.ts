import { featureModule } from '../shared/feature-module';
import { ChangePassword } from './change-password';
import { ConfirmPasswordReset } from './confirm-password-reset';
import { CurrentPasswordGuard } from './current-password';
import { PasswordPolicy } from './password-policy';
import { RequestPasswordReset } from './request-password-reset';

/** Password policy, reset by email link, change while signed in. */
export const PASSWORD_CLASSES = {
  PasswordPolicy,
  CurrentPasswordGuard,
  RequestPasswordReset,
  ConfirmPasswordReset,
  ChangePassword,
} as const;

export const passwordModule = featureModule(PASSWORD_CLASSES);
