import { IsNotEmpty, IsOptional, IsString } from 'class-validator';
import type { SecondFactorProof } from '@application/mfa/second-factor';
import { Errors } from '@application/shared/errors';
import { MaxUnits } from './validate-dto';

const PASSWORD_MAX = 512;
const TOKEN_MAX = 512;
/** A TOTP code is 6 digits and a backup code 14 characters; anything far longer is refused unread. */
const CODE_MAX = 64;

export class MfaVerifyDto {
  @IsString() @IsNotEmpty() @MaxUnits(TOKEN_MAX) mfa_token!: string;
  @IsOptional() @IsString() @MaxUnits(CODE_MAX) code?: string | null;
  @IsOptional() @IsString() @MaxUnits(CODE_MAX) backup_code?: string | null;
}

export class TotpEnableDto {
  @IsString() @MaxUnits(CODE_MAX) code!: string;
}

export class TotpDisableDto {
  @IsString() @MaxUnits(PASSWORD_MAX) password!: string;
  @IsOptional() @IsString() @MaxUnits(CODE_MAX) code?: string | null;
  @IsOptional() @IsString() @MaxUnits(CODE_MAX) backup_code?: string | null;
}

export class RegenerateBackupCodesDto {
  @IsString() @MaxUnits(PASSWORD_MAX) password!: string;
}

/** Exactly one of `code` (authenticator app) or `backup_code`. */
export function secondFactorProof(dto: { code?: string | null; backup_code?: string | null }): SecondFactorProof {
  const code = dto.code ?? null;
  const backupCode = dto.backup_code ?? null;
  if ((code === null) === (backupCode === null)) {
    throw Errors.invalidRequest({
      code: ['exactly one of code or backup_code is required'],
      backup_code: ['exactly one of code or backup_code is required'],
    });
  }
  return code !== null ? { code } : { backupCode: backupCode ?? '' };
}
