import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { CryptoKey, JWTPayload, JWSHeaderParameters } from 'jose';
import type { AccessClaims, RegisteredClaims, SignedAccessToken, SignOptions, TokenSigner, TokenVerifier, VerifiedAccessClaims } from '@application/ports/access-tokens';
import type { Clock } from '@application/ports/clock';
import type { IdGenerator } from '@application/ports/id-generator';
import type { SigningAlgorithm } from '@application/ports/signing-keys';
import type { DomainError } from '@domain/shared/domain-error';
import { Errors } from '@application/shared/errors';
import { BoundedLru } from '../../cache/local/bounded-lru';
import type { SigningKeyManager } from './signing-key-manager';

export interface JoseTokenServiceOptions {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  /** Accepted on verify besides the algorithms of published keys; signing always uses the active key's. */
  alg?: SigningAlgorithm;
  /** CONTRACT §4: at most 60 s. */
  clockToleranceSeconds?: number;
  /** Verified tokens remembered (LRU); 0 (the default) remembers none. */
  verifiedCacheMaxEntries?: number;
}

/** A token that passed every check, the key it was checked with, and from when it counts. */
interface VerifiedEntry {
  claims: VerifiedAccessClaims;
  kid: string;
  alg: string;
  key: CryptoKey;
  /** ms: before this, the token is not yet valid (nbf and iat, less the tolerance). */
  from: number;
}

/** RFC 9068 access-token type; a plain "JWT" (an ID token, say) is never accepted as an access token. */
const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Our tokens are well under 2 KiB; the cap rejects junk before any parsing or crypto. */
const MAX_TOKEN_LENGTH = 8 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Headers that would let the token choose its own key; we never honour them, so they only mark a forgery. */
const KEY_CHOOSING_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];
const REQUIRED_CLAIMS = ['iss', 'aud', 'sub', 'jti', 'iat', 'nbf', 'exp'];
/** The value of `token_type` in a service token; a user token has no such claim. */
const SERVICE = 'service';
/** Claims of a user token that a service token must not carry: it has no session, roles or user attributes. */
const USER_ONLY_CLAIMS = ['sid', 'roles', 'email_verified', 'amr'];

const randomIds: IdGenerator = { newId: () => randomUUID() };

/** Signs and verifies this service's access tokens with the keys the SigningKeyManager publishes. */
export class JoseTokenService implements TokenSigner, TokenVerifier {
  private readonly toleranceSeconds: number;
  private readonly clock: Clock;
  /**
   * Verified tokens by the whole compact token (never a part of it: the signature alone does not pin the
   * payload we would hand out), until `exp` plus the tolerance. A hit skips the signature check only: the key it
   * was verified with must still be the one published for its kid (a key pruned or replaced ends its tokens'
   * hits at once), and the time window is checked again.
   */
  private readonly verified: BoundedLru<string, VerifiedEntry>;

  constructor(
    private readonly keys: SigningKeyManager,
    private readonly options: JoseTokenServiceOptions,
    private readonly ids: IdGenerator = randomIds,
    clock?: Clock,
  ) {
    // The keys stay published for the TTL their manager declared on them: a longer-lived token would outlive its key.
    if (options.accessTokenTtlSeconds > keys.tokenTtlSeconds) {
      throw new Error(`Access-token TTL ${options.accessTokenTtlSeconds} s exceeds the ${keys.tokenTtlSeconds} s the signing keys are kept for.`);
    }
    // Same clock as the keys by default, so "published" and "expired" are judged at the same instant.
    this.clock = clock ?? keys.clock;
    this.toleranceSeconds = Math.min(options.clockToleranceSeconds ?? 60, 60);
    this.verified = new BoundedLru(options.verifiedCacheMaxEntries ?? 0, () => this.clock.now().getTime());
  }

  async sign(claims: AccessClaims, options: SignOptions = {}): Promise<SignedAccessToken> {
    const key = this.keys.activeKey();
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const lifetimeEnd = iat + this.options.accessTokenTtlSeconds;
    // At least a second: a session this close to its end is refused at its next use anyway.
    const exp = options.notAfter === undefined ? lifetimeEnd : Math.max(iat + 1, Math.min(lifetimeEnd, Math.floor(options.notAfter.getTime() / 1000)));
    const token = await new SignJWT(privateClaims(claims))
      .setProtectedHeader({ alg: key.alg, typ: ACCESS_TOKEN_TYPE, kid: key.kid })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(claims.sub)
      .setJti(this.ids.newId())
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return { token, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000), expiresIn: exp - iat };
  }

  async verify(token: string): Promise<VerifiedAccessClaims> {
    const raw: unknown = token;
    if (typeof raw !== 'string' || raw.length > MAX_TOKEN_LENGTH) throw invalidToken();
    const hit = this.verified.get(raw);
    if (hit !== undefined && hit.from <= this.clock.now().getTime() && this.keys.publicKeyFor(hit.kid, hit.alg) === hit.key) {
      return copyClaims(hit.claims);
    }
    if (!COMPACT_JWS.test(raw)) throw invalidToken();
    // jose decodes the signature leniently (the last character's unused low bits): one token has up to 16 spellings,
    // each a miss of the verified-token cache and a signature check of its own, each introspected as active. Only
    // the canonical one is ours (since stop 49, as the SDK's verifier does; a review found the service still took all).
    const signature = raw.slice(raw.lastIndexOf('.') + 1);
    if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) throw invalidToken();
    try {
      const now = this.clock.now();
      const { payload, protectedHeader, key } = await jwtVerify(raw, this.resolveKey, {
        // "none" and HS* are never in this list: only the algorithms of keys we published.
        algorithms: this.allowedAlgorithms(),
        issuer: this.options.issuer,
        audience: this.options.audience,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: this.toleranceSeconds,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: now,
      });
      // jose checks iat only with maxTokenAge; a token "issued" in the future was not issued by us.
      if ((payload.iat as number) > now.getTime() / 1000 + this.toleranceSeconds) throw invalidToken();
      const claims = toVerifiedClaims(payload);
      this.remember(raw, claims, protectedHeader, key);
      return claims;
    } catch (error) {
      // The keys could not be reloaded (the database): no verdict on the token. Until stop 65 this was INVALID_TOKEN
      // too, so /oauth/revoke answered 200 and revoked nothing, and introspection called a good token inactive (a
      // review of exception handling); it answers as the outage it is.
      if (error instanceof KeyReloadFailure) throw error.failure;
      // One generic answer: which check failed helps only someone crafting tokens.
      throw invalidToken();
    }
  }

  private remember(token: string, claims: VerifiedAccessClaims, header: JWSHeaderParameters, key: unknown): void {
    if (typeof header.kid !== 'string' || typeof header.alg !== 'string' || !isCryptoKey(key)) return;
    const toleranceMs = this.toleranceSeconds * 1000;
    const entry = { claims: copyClaims(claims), kid: header.kid, alg: header.alg, key, from: Math.max(claims.nbf, claims.iat) * 1000 - toleranceMs };
    this.verified.set(token, entry, claims.exp * 1000 + toleranceMs);
  }

  private allowedAlgorithms(): string[] {
    const published = this.keys.publishedAlgorithms();
    return this.options.alg && !published.includes(this.options.alg) ? [...published, this.options.alg] : published;
  }

  /** Resolves the key by kid among published keys only, and only for the alg that key was made for. */
  private readonly resolveKey = async (header: JWSHeaderParameters): Promise<CryptoKey> => {
    if (KEY_CHOOSING_HEADERS.some((name) => name in header)) throw invalidToken();
    const { kid, alg } = header;
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128 || typeof alg !== 'string') {
      throw invalidToken();
    }
    let key = this.keys.publicKeyFor(kid, alg);
    // Another instance may have rotated since we loaded; the manager rate-limits these reloads.
    const reloaded = !key && (await this.keys.reloadForUnknownKid().catch((failure: unknown) => Promise.reject(new KeyReloadFailure(failure))));
    if (reloaded) key = this.keys.publicKeyFor(kid, alg);
    if (!key) throw invalidToken();
    return key;
  };
}

/** A reload of the keys for an unknown kid failed: carried through jose (which lets the resolver's errors through). */
class KeyReloadFailure extends Error {
  constructor(readonly failure: unknown) {
    super('signing keys could not be reloaded');
  }
}

/**
 * Picked one by one per kind: whatever else a caller's object carries (email, names) never lands in the token.
 * `sub` and the registered claims are set by the builder.
 */
function privateClaims(claims: AccessClaims): JWTPayload {
  if (claims.token_type === SERVICE) return { token_type: SERVICE, scope: claims.scope };
  return { sid: claims.sid, roles: [...claims.roles], email_verified: claims.email_verified, amr: [...claims.amr] };
}

/** The payload passed the signature check; still, every claim is type-checked before callers trust it. */
function toVerifiedClaims(payload: JWTPayload): VerifiedAccessClaims {
  const registered = registeredClaims(payload);
  const { sub } = payload;
  const { token_type: tokenType } = payload as Record<string, unknown>;
  if (!isNonEmptyString(sub)) throw invalidToken();
  if (tokenType === undefined) return { ...registered, sub, ...userClaims(payload) };
  if (tokenType === SERVICE) return { ...registered, sub, token_type: SERVICE, scope: serviceScope(payload) };
  throw invalidToken();
}

function registeredClaims(payload: JWTPayload): RegisteredClaims {
  const { iss, aud, jti, iat, nbf, exp } = payload;
  if (
    !isNonEmptyString(iss) ||
    !(isNonEmptyString(aud) || (Array.isArray(aud) && aud.every(isNonEmptyString))) ||
    !isNonEmptyString(jti) ||
    typeof iat !== 'number' ||
    typeof nbf !== 'number' ||
    typeof exp !== 'number'
  ) {
    throw invalidToken();
  }
  return { iss, aud: Array.isArray(aud) ? [...aud] : aud, jti, iat, nbf, exp };
}

function userClaims(payload: JWTPayload): { sid: string; roles: string[]; email_verified: boolean; amr: string[] } {
  const { sid, roles, email_verified: emailVerified, amr } = payload as Record<string, unknown>;
  if (!isNonEmptyString(sid) || !isStringArray(roles) || typeof emailVerified !== 'boolean' || !isStringArray(amr)) {
    throw invalidToken();
  }
  return { sid, roles: [...roles], email_verified: emailVerified, amr: [...amr] };
}

/** RFC 6749 §3.3: space-separated scope tokens of printable ASCII without `"` or `\`; empty = no scope. */
function serviceScope(payload: JWTPayload): string {
  const { scope } = payload as Record<string, unknown>;
  if (USER_ONLY_CLAIMS.some((name) => name in payload)) throw invalidToken();
  if (typeof scope !== 'string' || !/^(?:[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*)?$/.test(scope)) {
    throw invalidToken();
  }
  return scope;
}

/** Callers get their own copy: nothing they do reaches the remembered claims. */
function copyClaims(claims: VerifiedAccessClaims): VerifiedAccessClaims {
  const aud = Array.isArray(claims.aud) ? [...claims.aud] : claims.aud;
  if (claims.token_type === SERVICE) return { ...claims, aud };
  return { ...claims, aud, roles: [...claims.roles], amr: [...claims.amr] };
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof value === 'object' && value !== null && 'algorithm' in value && 'type' in value;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function invalidToken(): DomainError {
  return Errors.invalidToken();
}
