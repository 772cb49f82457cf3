import { IsNotEmpty, IsOptional, IsString, ValidateIf } from 'class-validator';
import { Errors } from '@application/shared/errors';
import { CurrentPasswordDoc, EMAIL_OR_USERNAME, EmailDoc, NewPasswordDoc, UsernameDoc } from './member-docs';
import { MaxUnits } from './validate-dto';

/** Upper bounds only, as in auth.dto.ts; the domain owns the rules. Undeclared fields are rejected (toDto). */
const EMAIL_MAX = 254;
const PASSWORD_MAX = 512;
const NAME_MAX = 100;
const USERNAME_MAX = 32;
const TOKEN_MAX = 512;

export class PasswordResetRequestDto {
  @IsString() @MaxUnits(EMAIL_MAX) @EmailDoc() email!: string;
}

export class PasswordResetConfirmDto {
  @IsString() @IsNotEmpty() @MaxUnits(TOKEN_MAX) token!: string;
  @IsString() @MaxUnits(PASSWORD_MAX) @NewPasswordDoc() new_password!: string;
}

export class PasswordChangeDto {
  @IsString() @MaxUnits(PASSWORD_MAX) @CurrentPasswordDoc() current_password!: string;
  @IsString() @MaxUnits(PASSWORD_MAX) @NewPasswordDoc() new_password!: string;
}

/** PATCH: an absent field stays as it is, `null` clears it. */
export class UpdateProfileDto {
  @IsOptional() @IsString() @MaxUnits(USERNAME_MAX) @UsernameDoc({ nullClears: true }) username?: string | null;
  @IsOptional() @IsString() @MaxUnits(NAME_MAX) first_name?: string | null;
  @IsOptional() @IsString() @MaxUnits(NAME_MAX) last_name?: string | null;
}

@EMAIL_OR_USERNAME
export class UpdateCredentialsDto {
  @IsString() @MaxUnits(PASSWORD_MAX) @CurrentPasswordDoc() current_password!: string;
  // Present means a string: an account always has an email, so null is not "clear" here but invalid.
  @ValidateIf((_, value) => value !== undefined) @IsString() @MaxUnits(EMAIL_MAX) @EmailDoc() email?: string;
  @IsOptional() @IsString() @MaxUnits(USERNAME_MAX) @UsernameDoc({ nullClears: true }) username?: string | null;
}

export class DeleteAccountDto {
  @IsString() @MaxUnits(PASSWORD_MAX) @CurrentPasswordDoc() password!: string;
}

/** A credentials update names at least one of email or username. */
export function assertSomethingToChange(dto: UpdateCredentialsDto): void {
  if (dto.email === undefined && dto.username === undefined) {
    throw Errors.invalidRequest({
      email: ['one of email or username is required'],
      username: ['one of email or username is required'],
    });
  }
}
