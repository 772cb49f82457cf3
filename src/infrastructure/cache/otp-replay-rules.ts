/**
 * How long a used TOTP step is remembered. A code of step s is accepted while the clock is in steps s-1..s+1,
 * at most 90 s; 120 s covers that and the clock drift between instances.
 */
export const OTP_REPLAY_TTL_SECONDS = 120;
