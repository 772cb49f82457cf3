import { featureModule } from '../shared/feature-module';
import { BeginTotpSetup } from './begin-totp-setup';
import { DisableTotp } from './disable-totp';
import { EnableTotp } from './enable-totp';
import { MfaLockout } from './mfa-lockout';
import { RegenerateRecoveryCodes } from './regenerate-recovery-codes';
import { SecondFactor } from './second-factor';
import { VerifyMfaLogin } from './verify-mfa-login';

/** The second factor: TOTP set-up, the login's second step, and backup codes (support's removal is an admin use case, admin/remove-user-mfa.ts). */
export const MFA_CLASSES = {
  SecondFactor,
  MfaLockout,
  BeginTotpSetup,
  EnableTotp,
  DisableTotp,
  RegenerateRecoveryCodes,
  VerifyMfaLogin,
} as const;

export const mfaModule = featureModule(MFA_CLASSES);
