/**
 * Time-based one-time passwords (RFC 6238): HMAC-SHA-1, 6 digits, 30-second steps. A code is accepted for the
 * step of `now` and its neighbours only (T-1..T+1: up to 30 s of clock drift either way). The step a code matched
 * is returned so that the caller can claim it once (OtpReplayGuard): the same code must not log in twice.
 */
export interface TotpSecret {
  /** RFC 4648 base32, no padding: what the authenticator app is given (URI, QR code, or typed). */
  base32: string;
  /** The raw key: 20 bytes (160 bits) from a CSPRNG. Seal it (SecretBox) before storing. */
  bytes: Uint8Array;
}

export type TotpVerification = { ok: true; step: number } | { ok: false };

export interface Totp {
  /** A fresh 160-bit secret. */
  newSecret(): TotpSecret;
  /** The `otpauth://totp/...` URI an authenticator app enrols from (issuer, account label, secret, parameters). */
  uri(secretBase32: string, label: { issuer: string; account: string }): string;
  /**
   * Checks `code` (digits only, exact length, compared in constant time) against the steps T-1, T, T+1 of `now`.
   * Anything else (wrong length, non-digits, other steps) is `{ ok: false }`; never throws on user input.
   */
  verify(secretBase32: string, code: string, now: Date): TotpVerification;
  /** The URI as a QR code: a `data:image/png;base64,...` URL for the setup page. */
  qrDataUrl(uri: string): Promise<string>;
}
