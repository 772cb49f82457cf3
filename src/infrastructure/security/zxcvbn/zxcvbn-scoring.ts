/**
 * The scoring rules both zxcvbn estimators apply (in process and in the worker thread), in one place.
 *
 * zxcvbn's cost grows with length (about 300 ms for 64 characters with the default l33t search, measured
 * here), so it scores a bounded prefix with a bounded l33t search: worst case about 25 ms. Characters past the
 * prefix only add strength; a prefix that is already strong enough passes. The common-password list is checked
 * against the whole password, lower-cased.
 *
 * By the same rule a short prefix is scored first: when it already has the top score (4), the longer prefix
 * cannot score more, and that is the answer. Only passwords whose first `quickScoredLength` characters fall short
 * of the top are scored in full (64), so a long passphrase costs about what a 16-character one does (the
 * estimate shares the two cores with argon2: register was bound by it). Weak passwords pay both passes.
 */
export const ZXCVBN_SCORING = {
  /** Characters (code points) of the password scored; each user input is cut to as many UTF-16 units. */
  maxScoredLength: 64,
  /** Characters (code points) of the first, cheap pass; its result stands when it is the top score. */
  quickScoredLength: 16,
  /** zxcvbn's highest score. */
  topScore: 4,
  l33tMaxSubstitutions: 4,
  /** The entry of @zxcvbn-ts/language-common's dictionary that is the common-password list. */
  commonPasswordsList: 'passwords-common',
} as const;

export type ZxcvbnScoring = typeof ZXCVBN_SCORING;

export const MAX_SCORED_LENGTH = ZXCVBN_SCORING.maxScoredLength;
