/**
 * MFA recovery ("backup") codes: generated from a CSPRNG, shown to the user once, stored only as keyed hashes
 * (HMAC with a key derived from the encryption key), so that a copy of the database alone cannot test guesses.
 */
export interface RecoveryCodes {
  /** `count` fresh codes, each at least 50 bits, in the form the user is shown (e.g. `k7qm-2xw9-hd4t`). */
  generate(count: number): string[];
  /**
   * The stored form of a code the user typed: normalised first (case, spaces and dashes do not matter). null
   * when it cannot be a code at all (wrong length or alphabet), so nothing is looked up.
   */
  hash(code: string): string | null;
  /**
   * The stored forms the typed code may have: under the current key first (what `hash` gives), then under each
   * previous key still accepted, for codes issued before a key change. null as for `hash`.
   */
  candidates(code: string): string[] | null;
}
