import { BeginTotpSetup } from '@application/mfa/begin-totp-setup';
import { DisableTotp } from '@application/mfa/disable-totp';
import { EnableTotp } from '@application/mfa/enable-totp';
import { RegenerateRecoveryCodes } from '@application/mfa/regenerate-recovery-codes';
import { VerifyMfaLogin } from '@application/mfa/verify-mfa-login';
import { MfaVerifyDto, RegenerateBackupCodesDto, TotpDisableDto, TotpEnableDto, secondFactorProof, totpCode } from '../dto/mfa.dto';
import { respond } from '../envelope';
import { principalOf } from '../middleware/bearer-auth';
import { recordQuota } from '../middleware/rate-limit';
import { presentTokens } from '../presenters/tokens.presenter';
import { presentUser } from '../presenters/user.presenter';
import { defineRoute } from '../routing/define-route';
import { API_V1 } from '../routing/paths';
import type { RouteDef } from '../routing/route';
import { BACKUP_CODES_SCHEMA, MESSAGE_SCHEMA, TOTP_SETUP_SCHEMA, USER_AND_TOKENS_SCHEMA } from '../openapi/schemas';

const MFA = `${API_V1}/auth/mfa`;
const BEARER_ERRORS = ['UNAUTHENTICATED', 'INVALID_TOKEN'] as const;
/** Set-up and enabling: per IP, then per signed-in user (QR codes and secrets are not free to make). */
const MFA_SETUP = { group: 'mfa_setup', identifier: 'user' } as const;
/** Disabling and new backup codes check the current password: its quotas. */
const CURRENT_PASSWORD = { group: 'current_password', identifier: 'user' } as const;

/** The second factor: the login's second step, TOTP set-up, disabling, and backup codes. */
export const MFA_ROUTES: readonly RouteDef[] = [
  defineRoute({
    method: 'POST',
    path: `${MFA}/verify`,
    summary: 'Second login step: a TOTP code or a backup code for the mfa_token of the password step',
    tags: ['mfa'],
    auth: 'none',
    // Per IP here; per account (RATE_LIMIT_MFA_ID) once the token names it (reported back for the RateLimit
    // headers and the refusal count), and the account's MFA lockout.
    limit: { group: 'mfa' },
    body: { dto: MfaVerifyDto },
    responses: { 200: { description: 'Signed in (amr: ["pwd","otp"])', schema: USER_AND_TOKENS_SCHEMA } },
    errors: ['INVALID_CREDENTIALS', 'ACCOUNT_LOCKED', 'RATE_LIMITED'],
    uses: VerifyMfaLogin,
    async handle(ctx, verify) {
      const dto = ctx.state.dto;
      const { user, tokens } = await verify.execute({
        mfaToken: dto.mfa_token,
        proof: secondFactorProof(dto),
        client: ctx.state.client,
        // Shown only on the refusal it causes: on a 401 it would tell a live mfa_token from a voided one and count the
        // owner's own attempts (outside review, 2026-12-02), as the HTTP layer's per-identifier quotas are hidden.
        onQuota: (policy, result) => recordQuota(ctx, policy, result, 'when-refused'),
      });
      respond(ctx, 200, { user: presentUser(user), tokens: presentTokens(tokens) });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${MFA}/totp/setup`,
    summary: 'Start TOTP set-up (a sign-in in the last 15 minutes): a new secret, its otpauth URI and QR code (nothing changes until enabled)',
    tags: ['mfa'],
    auth: 'user',
    limit: MFA_SETUP,
    responses: { 200: { description: 'The pending secret', schema: TOTP_SETUP_SCHEMA } },
    errors: [...BEARER_ERRORS, 'FORBIDDEN', 'CONFLICT', 'RATE_LIMITED'],
    uses: BeginTotpSetup,
    async handle(ctx, setup) {
      const { user, claims } = principalOf(ctx);
      const result = await setup.execute({ userId: user.id, sessionId: claims.sid, client: ctx.state.client });
      respond(ctx, 200, { secret: result.secret, otpauth_uri: result.otpauthUri, qr_data_url: result.qrDataUrl });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${MFA}/totp/enable`,
    summary: 'Enable TOTP with a first code from the app (a sign-in in the last 15 minutes); returns the backup codes, shown once',
    tags: ['mfa'],
    auth: 'user',
    limit: MFA_SETUP,
    body: { dto: TotpEnableDto },
    responses: { 200: { description: 'Enabled', schema: BACKUP_CODES_SCHEMA } },
    errors: [...BEARER_ERRORS, 'FORBIDDEN', 'CONFLICT', 'RATE_LIMITED'],
    uses: EnableTotp,
    async handle(ctx, enable) {
      const { user, claims } = principalOf(ctx);
      const result = await enable.execute({ userId: user.id, sessionId: claims.sid, code: totpCode(ctx.state.dto.code), client: ctx.state.client });
      respond(ctx, 200, { backup_codes: result.backupCodes });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${MFA}/totp/disable`,
    summary: 'Disable the second factor (current password and a code or backup code)',
    tags: ['mfa'],
    auth: 'user',
    limit: CURRENT_PASSWORD,
    body: { dto: TotpDisableDto },
    responses: { 200: { description: 'Disabled', schema: MESSAGE_SCHEMA } },
    errors: [...BEARER_ERRORS, 'INVALID_CREDENTIALS', 'ACCOUNT_LOCKED', 'CONFLICT', 'RATE_LIMITED'],
    uses: DisableTotp,
    async handle(ctx, disable) {
      const { user, claims } = principalOf(ctx);
      const dto = ctx.state.dto;
      await disable.execute({ userId: user.id, sessionId: claims.sid, password: dto.password, proof: secondFactorProof(dto), client: ctx.state.client });
      respond(ctx, 200, { message: 'Two-factor authentication is off.' });
    },
  }),
  defineRoute({
    method: 'POST',
    path: `${MFA}/backup-codes`,
    summary: 'Regenerate the backup codes (current password, and a sign-in with the second factor in the last 15 minutes); the old set stops working',
    tags: ['mfa'],
    auth: 'user',
    limit: CURRENT_PASSWORD,
    body: { dto: RegenerateBackupCodesDto },
    responses: { 200: { description: 'The new codes, shown once', schema: BACKUP_CODES_SCHEMA } },
    errors: [...BEARER_ERRORS, 'INVALID_CREDENTIALS', 'FORBIDDEN', 'CONFLICT', 'RATE_LIMITED'],
    uses: RegenerateRecoveryCodes,
    async handle(ctx, regenerate) {
      const { user, claims } = principalOf(ctx);
      const result = await regenerate.execute({ userId: user.id, sessionId: claims.sid, password: ctx.state.dto.password, client: ctx.state.client });
      respond(ctx, 200, { backup_codes: result.backupCodes });
    },
  }),
];
