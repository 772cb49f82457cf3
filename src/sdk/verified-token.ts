import type { JWTPayload } from 'jose';

export interface VerifiedToken {
  subject: string;
  /** The user's session; null for a service token. */
  sessionId: string | null;
  tokenType: 'user' | 'service';
  roles: string[];
  scopes: string[];
  claims: JWTPayload;
}

export interface VerifyOptions {
  /** Also ask auth-service (introspection), so a revoked session is refused at once. */
  online?: boolean;
}
