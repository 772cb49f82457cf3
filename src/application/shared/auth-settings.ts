/** Policy values the use cases need, taken from the validated configuration by the composition root. */
export interface AuthSettings {
  requireEmailVerification: boolean;
  passwordMinLength: number;
  refreshTokenTtlSeconds: number;
  sessionMaxLifetimeSeconds: number;
  refreshGraceSeconds: number;
  verificationTokenTtlSeconds: number;
  /** Base of the links in emails; never taken from a request. */
  publicUrl: string;
}
