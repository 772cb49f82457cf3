const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "900" (seconds), "15m", "24h", "30d" -> seconds; null when it is none of those. */
export function parseDuration(raw: string): number | null {
  const match = /^(\d+)\s*([smhd]?)$/.exec(raw.trim());
  if (!match) return null;
  return Number(match[1]) * UNITS[match[2] || 's']!;
}
