import { IsNotEmpty, IsOptional, IsString } from 'class-validator';
import type { SecondFactorProof } from '@application/mfa/second-factor';
import { Errors } from '@application/shared/errors';
import { BackupCodeDoc, CurrentPasswordDoc, ONE_SECOND_FACTOR, TotpCodeDoc } from './member-docs';
import { MaxUnits } from './validate-dto';

const PASSWORD_MAX = 512;
const TOKEN_MAX = 512;
/** A TOTP code is 6 digits and a backup code 14 characters; anything far longer is refused unread. */
const CODE_MAX = 64;

@ONE_SECOND_FACTOR
export class MfaVerifyDto {
  @IsString() @IsNotEmpty() @MaxUnits(TOKEN_MAX) mfa_token!: string;
  @IsOptional() @IsString() @MaxUnits(CODE_MAX) @TotpCodeDoc() code?: string | null;
  @IsOptional() @IsString() @MaxUnits(CODE_MAX) @BackupCodeDoc() backup_code?: string | null;
}

export class TotpEnableDto {
  @IsString() @MaxUnits(CODE_MAX) @TotpCodeDoc() code!: string;
}

@ONE_SECOND_FACTOR
export class TotpDisableDto {
  @IsString() @MaxUnits(PASSWORD_MAX) @CurrentPasswordDoc() password!: string;
  @IsOptional() @IsString() @MaxUnits(CODE_MAX) @TotpCodeDoc() code?: string | null;
  @IsOptional() @IsString() @MaxUnits(CODE_MAX) @BackupCodeDoc() backup_code?: string | null;
}

export class RegenerateBackupCodesDto {
  @IsString() @MaxUnits(PASSWORD_MAX) @CurrentPasswordDoc() password!: string;
}

/**
 * An authenticator app's code as people type or paste it: spaces (`123 456`, a trailing newline), dashes and
 * full-width digits (NFKC) are taken out or mapped. What is then not 6 digits is a 400 VALIDATION_ERROR, before any
 * secret is read: it cannot be a right code, so it is no guess and does not count toward the second factor's lockout
 * (until stop 46 it was a wrong code, counted: five pastes of `123 456` locked the owner out for 15 minutes).
 */
export function totpCode(raw: string): string {
  const code = raw.normalize('NFKC').replace(/[\s-]/g, '');
  if (!/^[0-9]{6}$/.test(code)) throw Errors.invalidRequest({ code: ['must be the 6 digits the authenticator app shows'] });
  return code;
}

/**
 * The backup codes' alphabet as the verifier reads it (infrastructure/security/crypto/hmac-recovery-codes.ts): 12
 * symbols of Crockford's base32 in lower case, and the look-alikes it reads as digits (o as 0, i and l as 1). Only
 * `u` is neither.
 */
const BACKUP_CODE = /^[0-9a-tv-z]{12}$/;

/**
 * A backup code as people type or paste it: spaces, dashes and line breaks taken out, full-width forms mapped
 * (NFKC), any case. What is then not 12 such symbols (empty, `abc`, a TOTP code typed into the wrong field) is a 400
 * VALIDATION_ERROR before any secret is read: it cannot be a right code, so it is no guess and does not count toward
 * the second factor's lockout (until 2026-12-05 it was a wrong code, counted: a security review locked an owner out
 * for 15 minutes with five of them).
 */
export function backupCode(raw: string): string {
  const code = raw.normalize('NFKC').replace(/[\s-]/g, '').toLowerCase();
  if (!BACKUP_CODE.test(code)) throw Errors.invalidRequest({ backup_code: ['must be one of the 12-character backup codes'] });
  return code;
}

/** Exactly one of `code` (authenticator app) or `backup_code`. */
export function secondFactorProof(dto: { code?: string | null; backup_code?: string | null }): SecondFactorProof {
  const code = dto.code ?? null;
  const backup = dto.backup_code ?? null;
  if ((code === null) === (backup === null)) {
    throw Errors.invalidRequest({
      code: ['exactly one of code or backup_code is required'],
      backup_code: ['exactly one of code or backup_code is required'],
    });
  }
  return code !== null ? { code: totpCode(code) } : { backupCode: backupCode(backup ?? '') };
}
