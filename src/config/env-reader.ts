import { parseDuration } from './duration';

/** The environment as read: variable name to value. */
export type Env = Record<string, string | undefined>;

/**
 * Typed reads of environment variables for loadConfig: each value trimmed (empty is absent), checked, and a
 * problem pushed (never thrown) for each bad one, so that every problem is reported at once. Connection URLs
 * may hold passwords and are never echoed in a problem; other URLs are quoted through shownUrl only.
 */
export class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | null {
    return this.raw(name) ?? null;
  }

  /**
   * A sender as a mail header takes it: `address` or `Display Name <address>`, the address `local@domain` with
   * no spaces, quotes or brackets; no control characters. Checked at start since 2026-12-03: `MAIL_FROM=not-an-address`
   * started, and every e-mail then failed at the SMTP server, retried for days (an outside review).
   */
  mailbox(name: string, fallback: string): string {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const named = /^([^<>]*)<([^<>]*)>$/.exec(raw);
    const address = (named ? named[2]! : raw).trim();
    const ok = !/[\u0000-\u001f\u007f]/.test(raw) && /^[^\s@<>()\[\],;:"\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(address);
    if (!ok) {
      this.problems.push(`${name} must be an e-mail address or "Name <address>" (got "${raw.slice(0, 100)}")`);
      return fallback;
    }
    return raw;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    // Digits only: Number() also reads "0x1021", "1e3" and "0b11" (an outside review saw PORT=0x1021 listen on 4129).
    const value = /^-?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  }

  duration(name: string, fallback: string, minSeconds: number, maxSeconds: number): number {
    const raw = this.raw(name) ?? fallback;
    const seconds = parseDuration(raw);
    if (seconds === null || seconds < minSeconds || seconds > maxSeconds) {
      this.problems.push(`${name} must be a duration with its unit, like 900s, 15m, 24h or 30d, between ${minSeconds}s and ${maxSeconds}s (got "${raw}")`);
      return parseDuration(fallback) ?? minSeconds;
    }
    return seconds;
  }

  list(name: string): string[] {
    return (this.raw(name) ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }

  /** Comma-separated URLs (cluster seed nodes, Sentinels); like optionalUrl, never echoed. */
  optionalUrlList(name: string, protocols: string[]): string | null {
    const raw = this.raw(name);
    if (raw === undefined) return null;
    const urls = raw.split(',').map((u) => u.trim()).filter((u) => u.length > 0);
    if (urls.length === 0 || !urls.every((u) => isUrl(u, protocols))) {
      this.problems.push(`${name} must be comma-separated URLs starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
      return null;
    }
    if (!urls.every(userinfoDecodes)) {
      this.problems.push(malformedEscape(name));
      return null;
    }
    return urls.join(',');
  }

  url(name: string, fallback: string): string {
    const raw = this.raw(name) ?? fallback;
    if (!isUrl(raw, ['http:', 'https:'])) this.problems.push(`${name} must be an http(s) URL (got "${shownUrl(raw)}")`);
    else if (!userinfoDecodes(raw)) this.problems.push(malformedEscape(name));
    return raw.replace(/\/+$/, '');
  }

  /** Connection URLs may hold passwords: they are never echoed in a message. */
  optionalUrl(name: string, protocols: string[]): string | null {
    const raw = this.raw(name);
    if (raw === undefined) return null;
    if (!isUrl(raw, protocols)) {
      this.problems.push(`${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
      return null;
    }
    if (!userinfoDecodes(raw)) {
      this.problems.push(malformedEscape(name));
      return null;
    }
    return raw;
  }
}

export function isUrl(raw: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(raw).protocol);
  } catch {
    return false;
  }
}

/**
 * Whether the user and password %-decode: WHATWG URL accepts `%ZZ` there, and the clients decode them at start
 * (pg's parser, the Redis adapter), which then failed with a bare "URI malformed" naming no variable, and AMQP
 * logged ACCESS_REFUSED for ever (a review, 2026-12-06). Called on values isUrl accepted.
 */
function userinfoDecodes(raw: string): boolean {
  try {
    const url = new URL(raw);
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    return true;
  } catch {
    return false;
  }
}

function malformedEscape(name: string): string {
  return `${name} has a malformed %-escape in its user or password`;
}

/**
 * A URL as a refusal may quote it: the user and password masked (`***@`), the query and fragment dropped. The
 * message goes to stderr, the container's log. Values that do not parse too: until 2026-12-06 a typo such as
 * `https//ops:pw@host` or a wrong scheme was quoted whole (a review). For a value that parses, the user part ends
 * before the first "/", "?" or "#"; for one that does not, where it ends is unknown (a password may hold any of
 * them), so everything up to the last "@" is dropped.
 */
export function shownUrl(value: string): string {
  const prefix = /^[a-z][a-z0-9+.-]*:?[/\\]+/i.exec(value)?.[0] ?? '';
  let rest = value.slice(prefix.length);
  const end = parses(value) ? rest.search(/[/?#]/) : -1;
  const at = (end === -1 ? rest : rest.slice(0, end)).lastIndexOf('@');
  if (at !== -1) rest = `***@${rest.slice(at + 1)}`;
  return prefix + rest.split(/[?#]/)[0]!;
}

function parses(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}
