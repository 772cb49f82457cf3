import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsISO8601, IsString, IsUUID, Matches, ValidateIf } from 'class-validator';
import { ROLE_PATTERN, ROLES_REQUIRED } from '@domain/user/role';
import { EmailDoc, InstantDoc, SOMETHING_TO_UPDATE } from './member-docs';
import { MaxUnits, MaxUnitsNormalized } from './validate-dto';

/**
 * Admin API requests (issue 12). Query DTOs: every member is a string as it arrives (a repeated parameter is an
 * array and fails); present means validated, absent means the default. Numbers are checked by pattern here and
 * converted by the route.
 */
const present = (_: object, value: unknown) => value !== undefined;
const LIMIT_1_100 = /^(100|[1-9][0-9]?)$/;
const CURSOR = /^[A-Za-z0-9_-]{1,200}$/;

export const USER_SORTS = ['created_at', 'email', 'last_login_at'] as const;
export const USER_STATUSES = ['pending_verification', 'active', 'locked', 'suspended'] as const;

/**
 * The query of an admin GET that takes no parameter (stats, one user): any parameter is a 400 VALIDATION_ERROR
 * naming it, as the list routes refuse the ones they do not declare, so that a typo (`?since=` on the stats) is
 * never mistaken for a filter that was applied.
 */
export class NoQueryDto {}

export class ListUsersQueryDto {
  @ValidateIf(present) @IsString() @Matches(/^[1-9][0-9]{0,8}$/, { message: 'page must be a whole number from 1 to 999999999' }) page?: string;
  @ValidateIf(present) @IsString() @Matches(LIMIT_1_100, { message: 'limit must be a whole number from 1 to 100' }) limit?: string;
  @ValidateIf(present) @IsString() @MaxUnitsNormalized(100) search?: string;
  @ValidateIf(present) @IsIn(USER_STATUSES) status?: string;
  @ValidateIf(present) @IsString() @Matches(ROLE_PATTERN, { message: 'role must match [a-z][a-z0-9_-]{0,31}' }) role?: string;
  @ValidateIf(present) @IsIn(USER_SORTS) sort?: string;
  @ValidateIf(present) @IsIn(['asc', 'desc']) order?: string;
}

export class InviteUserDto {
  @IsString() @MaxUnits(254) @EmailDoc() email!: string;
  @ValidateIf(present) @IsString() @MaxUnits(100) first_name?: string;
  @ValidateIf(present) @IsString() @MaxUnits(100) last_name?: string;
  @ValidateIf(present) @IsArray() @ArrayMinSize(1, { message: `roles must hold ${ROLES_REQUIRED}` }) @ArrayMaxSize(20) @IsString({ each: true }) @MaxUnits(32, { each: true }) @Matches(ROLE_PATTERN, { each: true, message: 'each role must match [a-z][a-z0-9_-]{0,31}' }) roles?: string[];
}

@SOMETHING_TO_UPDATE
export class UpdateUserDto {
  @ValidateIf(present) @IsIn(['active', 'suspended']) status?: 'active' | 'suspended';
  @ValidateIf(present) @IsArray() @ArrayMinSize(1, { message: `roles must hold ${ROLES_REQUIRED}` }) @ArrayMaxSize(20) @IsString({ each: true }) @MaxUnits(32, { each: true }) @Matches(ROLE_PATTERN, { each: true, message: 'each role must match [a-z][a-z0-9_-]{0,31}' }) roles?: string[];
  @ValidateIf(present) @IsIn([true], { message: 'email_verified can only be set to true' }) email_verified?: true;
}

export class AuditEventsQueryDto {
  @ValidateIf(present) @IsUUID() user_id?: string;
  @ValidateIf(present) @IsString() @Matches(/^[a-z_]{1,40}\.[a-z_]{1,40}$/, { message: 'type must be an audit event type, e.g. login.failed' }) type?: string;
  // The shape only: IsISO8601's `strict` day check refuses years 1-99 (see instantParam, which checks the day).
  @ValidateIf(present) @IsString() @IsISO8601() @InstantDoc() since?: string;
  @ValidateIf(present) @IsString() @IsISO8601() @InstantDoc() until?: string;
  @ValidateIf(present) @IsString() @Matches(CURSOR, { message: 'cursor is invalid' }) cursor?: string;
  @ValidateIf(present) @IsString() @Matches(LIMIT_1_100, { message: 'limit must be a whole number from 1 to 100' }) limit?: string;
}

export class ActivityQueryDto {
  @ValidateIf(present) @IsString() @Matches(CURSOR, { message: 'cursor is invalid' }) cursor?: string;
  @ValidateIf(present) @IsString() @Matches(LIMIT_1_100, { message: 'limit must be a whole number from 1 to 100' }) limit?: string;
}
