/**
 * Service-client secrets: generated here (at least 256 bits from a CSPRNG), stored only as a keyed digest.
 * A keyed hash (not argon2) is enough because the secret is random and long: nothing to brute-force, and
 * the key keeps a stolen table useless even for checking guesses. It is cheap, so it runs on every token,
 * introspection and revocation request without becoming a CPU sink.
 */
export interface ClientSecrets {
  /** A new secret and the digest to store. */
  create(): { secret: string; hash: string };
  /**
   * Whether `secret` is the one `hash` was made from, in constant time. `hash` null (an unknown client id)
   * does the same work against a dummy digest and answers false, so an unknown id costs what a wrong secret does.
   */
  matches(secret: string, hash: string | null): boolean;
}
