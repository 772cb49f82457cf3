import type { SessionListing } from '@application/session/list-sessions';

export interface SessionView {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

/** CONTRACT §2 whitelist: never a token hash or the sealed refresh token. */
export function presentSession({ session, current, expiresAt }: SessionListing): SessionView {
  const state = session.toState();
  return {
    id: state.id,
    created_at: state.createdAt.toISOString(),
    last_used_at: state.lastUsedAt.toISOString(),
    expires_at: expiresAt.toISOString(),
    ip: state.ip,
    user_agent: state.userAgent,
    current,
  };
}
