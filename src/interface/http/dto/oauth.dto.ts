import { IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { CLIENT_CREDENTIALS_PAIR, ClientIdDoc, ClientSecretDoc } from './member-docs';
import { MaxUnits } from './validate-dto';

/** Upper bounds only; parameters these classes do not declare are ignored on the OAuth routes (RFC 6749 §3.1). */
const PARAM_MAX = 512;
const SCOPE_MAX = 4096;
/**
 * A token longer than the use cases read (MAX_TOKEN_LENGTH, 8192) is still a token: RFC 7662 answers it
 * `{"active": false}` and RFC 7009 200, so the DTO bound sits above that, at the body limit's order (16 KiB).
 */
const TOKEN_MAX = 16 * 1024;

/** Client authentication in the body (RFC 6749 §2.3.1), the alternative to HTTP Basic. */
class ClientAuthenticationDto {
  @IsOptional() @IsString() @MaxUnits(PARAM_MAX) @ClientIdDoc() client_id?: string;
  @IsOptional() @IsString() @MaxUnits(PARAM_MAX) @ClientSecretDoc() client_secret?: string;
}

/** RFC 6749 §4.4.2. */
@CLIENT_CREDENTIALS_PAIR
export class TokenRequestDto extends ClientAuthenticationDto {
  @IsString() @IsNotEmpty() @MaxUnits(PARAM_MAX) grant_type!: string;
  @IsOptional() @IsString() @MaxUnits(SCOPE_MAX) scope?: string | null;
}

/** RFC 7662 §2.1 and RFC 7009 §2.1: the hint is accepted and not needed (the token's shape says its kind). */
@CLIENT_CREDENTIALS_PAIR
export class TokenActionDto extends ClientAuthenticationDto {
  /** Any string is a token to answer (garbage: inactive, 200), NUL and lone surrogates included (validate-dto). */
  static readonly anyString = ['token'];
  @IsString() @IsNotEmpty() @MaxUnits(TOKEN_MAX) token!: string;
  @IsOptional() @IsString() @MaxUnits(PARAM_MAX) token_type_hint?: string;
}
