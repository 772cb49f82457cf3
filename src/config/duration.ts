const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * "900s", "15m", "24h", "30d" -> seconds; "0" needs no unit; null otherwise. A number without its unit is refused:
 * read as seconds, `LOCKOUT_DURATION=15` meant a 15-second lock to someone who thought in minutes, and
 * `RATE_LIMIT_LOGIN_ID=20/5` 20 attempts per 5 seconds (accepted silently until 2026-12-02: an outside review).
 */
export function parseDuration(raw: string): number | null {
  const trimmed = raw.trim();
  if (trimmed === '0') return 0;
  const match = /^(\d+)\s*([smhd])$/.exec(trimmed);
  if (!match) return null;
  return Number(match[1]) * UNITS[match[2]!]!;
}
