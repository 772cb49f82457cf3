export interface StrengthEstimate {
  /** 0 (guessable in a few tries) to 4 (very unguessable), zxcvbn's scale. */
  score: 0 | 1 | 2 | 3 | 4;
  /** The password is on a list of commonly used passwords. */
  common: boolean;
}

/**
 * Estimates how guessable a password is. CPU-heavy (milliseconds to tens of milliseconds), hence asynchronous:
 * the adapter keeps the work off the event loop and bounds the input it scores. `userInputs` (email, username,
 * names) count as known words. Rejects only when the estimator itself fails, never for a weak password.
 */
export interface PasswordStrengthEstimator {
  estimate(password: string, userInputs: string[]): Promise<StrengthEstimate>;
}
