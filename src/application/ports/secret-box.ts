/** Authenticated encryption of small secrets at rest (sealed refresh tokens, private signing keys). */
export interface SecretBox {
  seal(plain: string): string;
  /** Throws when the sealed value was tampered with or made with another key. */
  open(sealed: string): string;
}
