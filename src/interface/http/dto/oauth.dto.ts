import { IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { MaxUnits } from './validate-dto';

/** Upper bounds only; parameters these classes do not declare are ignored on the OAuth routes (RFC 6749 §3.1). */
const PARAM_MAX = 512;
const SCOPE_MAX = 4096;
const TOKEN_MAX = 8192;

/** Client authentication in the body (RFC 6749 §2.3.1), the alternative to HTTP Basic. */
class ClientAuthenticationDto {
  @IsOptional() @IsString() @MaxUnits(PARAM_MAX) client_id?: string;
  @IsOptional() @IsString() @MaxUnits(PARAM_MAX) client_secret?: string;
}

/** RFC 6749 §4.4.2. */
export class TokenRequestDto extends ClientAuthenticationDto {
  @IsString() @IsNotEmpty() @MaxUnits(PARAM_MAX) grant_type!: string;
  @IsOptional() @IsString() @MaxUnits(SCOPE_MAX) scope?: string;
}

/** RFC 7662 §2.1 and RFC 7009 §2.1: the hint is accepted and not needed (the token's shape says its kind). */
export class TokenActionDto extends ClientAuthenticationDto {
  @IsString() @IsNotEmpty() @MaxUnits(TOKEN_MAX) token!: string;
  @IsOptional() @IsString() @MaxUnits(PARAM_MAX) token_type_hint?: string;
}
