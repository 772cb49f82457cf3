import { featureModule } from '../shared/feature-module';
import { DeleteAccount } from './delete-account';
import { GetCurrentUser } from './get-current-user';
import { ProcessAccountRequest } from './process-account-request';
import { RegisterUser } from './register-user';
import { ResendVerification } from './resend-verification';
import { UpdateCredentials } from './update-credentials';
import { UpdateProfile } from './update-profile';
import { VerificationTokens } from './verification-tokens';
import { VerifyEmail } from './verify-email';
import { ListOwnActivity } from './list-own-activity';

/** Registration, email verification and the signed-in user's own account. */
export const ACCOUNT_CLASSES = {
  VerificationTokens,
  RegisterUser,
  VerifyEmail,
  ResendVerification,
  ProcessAccountRequest,
  GetCurrentUser,
  UpdateProfile,
  UpdateCredentials,
  DeleteAccount,
  ListOwnActivity,
} as const;

export const accountModule = featureModule(ACCOUNT_CLASSES);
