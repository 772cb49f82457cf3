import { IsIn, IsNotEmpty, IsOptional, IsString } from 'class-validator';
import type { LogoutScope } from '@application/session/logout';
import { lockoutKey } from '@application/session/login-lockout-keys';
import { Errors } from '@application/shared/errors';
import { personName } from '@domain/user/person-name';
import { Username } from '@domain/user/username';
import { CurrentPasswordDoc, EmailDoc, LoginEmailDoc, LoginUsernameDoc, NewPasswordDoc, ONE_LOGIN_IDENTIFIER, UsernameDoc } from './member-docs';
import { MaxUnits } from './validate-dto';

/** Upper bounds only; the domain owns the real rules (email shape, username vocabulary, password policy). */
const EMAIL_MAX = 254;
const PASSWORD_MAX = 512;
const NAME_MAX = 100;
const USERNAME_MAX = 32;
const TOKEN_MAX = 512;

export class RegisterDto {
  @IsString() @MaxUnits(EMAIL_MAX) @EmailDoc() email!: string;
  @IsString() @MaxUnits(PASSWORD_MAX) @NewPasswordDoc() password!: string;
  @IsOptional() @IsString() @MaxUnits(USERNAME_MAX) @UsernameDoc({ nullClears: false }) username?: string | null;
  @IsOptional() @IsString() @MaxUnits(NAME_MAX) first_name?: string | null;
  @IsOptional() @IsString() @MaxUnits(NAME_MAX) last_name?: string | null;
}

/**
 * The username's and the names' own rules (RegisterUser applies them again), checked with the validation: a sign-up
 * refused for them is malformed and spends no quota of the address it names.
 */
export function checkRegistration(dto: RegisterDto): void {
  if (dto.username !== undefined && dto.username !== null) Username.create(dto.username);
  personName(dto.first_name, 'first_name');
  personName(dto.last_name, 'last_name');
}

export class VerifyEmailDto {
  @IsString() @IsNotEmpty() @MaxUnits(TOKEN_MAX) token!: string;
}

export class ResendVerificationDto {
  @IsString() @MaxUnits(EMAIL_MAX) @EmailDoc() email!: string;
}

@ONE_LOGIN_IDENTIFIER
export class LoginDto {
  @IsOptional() @IsString() @MaxUnits(EMAIL_MAX) @LoginEmailDoc() email?: string | null;
  // One identifier: an `@` in either member is read as an address (findByIdentifier), so `username` takes an
  // address's length too; at 32 units a longer address there was a 400 where a shorter one signed in (a review).
  @IsOptional() @IsString() @MaxUnits(EMAIL_MAX) @LoginUsernameDoc() username?: string | null;
  @IsString() @MaxUnits(PASSWORD_MAX) @CurrentPasswordDoc() password!: string;
}

export class RefreshDto {
  @IsString() @IsNotEmpty() @MaxUnits(TOKEN_MAX) refresh_token!: string;
}

export const LOGOUT_SCOPES: readonly LogoutScope[] = ['local', 'others', 'global'];

export class LogoutDto {
  @IsOptional() @IsIn(LOGOUT_SCOPES) scope?: LogoutScope | null;
}

/**
 * Login names the account by exactly one of email or username. A blank one (nothing left once canonicalised) counts
 * as absent: until 2026-12-07 `{"email": ""}` was a login attempt whose lockout key was the empty string, one bucket
 * shared by every caller's blank form, spending a hash each and locked after five (a review).
 */
export function loginIdentifier(dto: LoginDto): string {
  const present = (value: string | null | undefined) => (value === null || value === undefined || lockoutKey(value) === '' ? null : value);
  const email = present(dto.email);
  const username = present(dto.username);
  if ((email === null) === (username === null)) {
    throw Errors.invalidRequest({
      email: ['exactly one of email or username is required'],
      username: ['exactly one of email or username is required'],
    });
  }
  return email ?? username ?? '';
}
