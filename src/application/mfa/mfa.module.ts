import { featureModule } from '../shared/feature-module';
import { BeginTotpSetup } from './begin-totp-setup';
import { DisableTotp } from './disable-totp';
import { EnableTotp } from './enable-totp';
import { MfaLockout } from './mfa-lockout';
import { RegenerateRecoveryCodes } from './regenerate-recovery-codes';
import { RemoveUserMfa } from './remove-user-mfa';
import { SecondFactor } from './second-factor';
import { VerifyMfaLogin } from './verify-mfa-login';

/** The second factor: TOTP set-up, the login's second step, backup codes, and support's removal. */
export const MFA_CLASSES = {
  SecondFactor,
  MfaLockout,
  BeginTotpSetup,
  EnableTotp,
  DisableTotp,
  RegenerateRecoveryCodes,
  VerifyMfaLogin,
  RemoveUserMfa,
} as const;

export const mfaModule = featureModule(MFA_CLASSES);
