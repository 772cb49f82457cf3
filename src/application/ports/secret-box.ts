/**
 * Authenticated encryption of small secrets at rest (refresh tokens, TOTP secrets, private signing keys, queued
 * email bodies, queued account requests). Every value is bound to its `context`, what it is and whose (see
 * SEALED): opened under any other context it does not open, so a sealed value copied into another row or column
 * (someone who can write the database but lacks ENCRYPTION_KEY moving their own TOTP secret onto another
 * account, say) is refused instead of used.
 */
export interface SecretBox {
  /** Sealed under the current key. */
  seal(plain: string, context: string): string;
  /**
   * Opens a value sealed under the current key or a previous one (ENCRYPTION_KEYS_PREVIOUS). Throws when it was
   * tampered with, made with a key the box does not hold, or sealed under another context.
   */
  open(sealed: string, context: string): string;
  /**
   * The value sealed anew under the current key and format, or null when it already is (nothing to write).
   * Throws as `open` does.
   */
  reseal(sealed: string, context: string): string | null;
  /**
   * `plain` sealed twice: under a key derived from `secret`, then as seal() seals. Opening it takes the box's key and
   * `secret` both, so a copy of the database with ENCRYPTION_KEY opens nothing without the secret; reseal() and
   * rotating ENCRYPTION_KEY work on it as on any sealed value (they touch the outer seal only). For a session's current
   * refresh token, sealed under the token it replaced: only whoever presents that token can be handed it again.
   */
  sealUnder(plain: string, context: string, secret: string): string;
  /**
   * Opens what sealUnder sealed, given the same `secret`; throws as open() does, and when `secret` is not the one. A
   * value seal() sealed (written before sealUnder existed) opens as open() opens it, whatever `secret`.
   */
  openUnder(sealed: string, context: string, secret: string): string;
  /**
   * Whether the value opens with the box's keys alone to a non-empty value: seal() sealed it (not sealUnder(), not the
   * empty value). False for a value that does not open at all; never throws.
   */
  opensAlone(sealed: string, context: string): boolean;
}

/** The context of each kind of sealed value: its purpose and the id of the row it belongs to. */
export const SEALED = {
  refreshToken: (sessionId: string) => `refresh_token:${sessionId}`,
  totpSecret: (userId: string) => `totp_secret:${userId}`,
  signingKey: (kid: string) => `signing_key:${kid}`,
  emailBody: (emailId: string, part: 'text' | 'html') => `email_${part}:${emailId}`,
  accountRequest: (requestId: string) => `account_request:${requestId}`,
} as const;
