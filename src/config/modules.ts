import { ACCOUNT_CLASSES, accountModule } from '@application/account/account.module';
import { MFA_CLASSES, mfaModule } from '@application/mfa/mfa.module';
import { PASSWORD_CLASSES, passwordModule } from '@application/password/password.module';
import { SESSION_CLASSES, sessionModule } from '@application/session/session.module';
import { OAUTH_CLASSES, oauthModule } from '@application/oauth/oauth.module';
import { ADMIN_CLASSES, adminModule } from '@application/admin/admin.module';

/**
 * The feature modules the composition root loads, and their classes (for the test kit and the wiring check).
 * A new feature folder adds one line here; a new use case in an existing folder adds one line to its module.
 */
export const FEATURE_MODULES = [sessionModule, passwordModule, accountModule, mfaModule, oauthModule, adminModule] as const;

export const APPLICATION_CLASSES = { ...SESSION_CLASSES, ...PASSWORD_CLASSES, ...ACCOUNT_CLASSES, ...MFA_CLASSES, ...OAUTH_CLASSES, ...ADMIN_CLASSES } as const;
